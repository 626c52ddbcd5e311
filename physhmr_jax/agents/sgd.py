"""PPO's update on a flat batch: epochs of shuffled minibatch Adam steps (steps 3 of the
iteration in :mod:`physhmr_jax.agents.ppo`), and the optimiser they step.

Each minibatch step differentiates :func:`physhmr_jax.agents.losses.ppo_loss`, applies Adam
behind global-norm clipping (``optax.chain``), adapts the learning rate to the minibatch's
approximate KL where ``ppo.learning_rate_schedule`` is ``kl_adaptive`` (the rate is a leaf
of the optimiser state, :mod:`physhmr_jax.agents.schedules`), and skips (and counts) an
update whose gradient is not finite.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Protocol

import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax import Array

from physhmr_jax.agents import losses
from physhmr_jax.agents.mirror import Mirror
from physhmr_jax.agents.networks import Params, PPONetworks
from physhmr_jax.agents.schedules import _with_learning_rate, adapt_learning_rate, learning_rate, select_tree


class Learner(Protocol):
    """What the update reads of PPO's static parts (``ppo._Agent`` is one)."""

    networks: PPONetworks
    optimizer: optax.GradientTransformation
    config: ml_collections.ConfigDict
    mirror: Mirror | None  # envs/symmetry.py's maps with ppo.symmetry_coef > 0, else None


class EpochCarry(NamedTuple):
    params: Params
    opt_state: optax.OptState
    key: Array


class MinibatchCarry(NamedTuple):
    params: Params
    opt_state: optax.OptState


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam behind global-norm clipping; the learning rate lives in the optimiser state.

    ``inject_hyperparams`` makes the learning rate a leaf of ``opt_state`` rather than a
    compiled-in constant, so a sweep or schedule changes it without recompiling
    (:func:`physhmr_jax.agents.schedules.set_learning_rate`).
    """
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.inject_hyperparams(optax.adam)(learning_rate=config.learning_rate, eps=config.adam_eps),
    )


def minibatch_step(
    learner: Learner, normalizer_params, carry: MinibatchCarry, minibatch: losses.PPOBatch
) -> tuple[MinibatchCarry, dict[str, Array]]:
    """One Adam step on one minibatch [M]; skipped if its gradient is not finite."""
    cfg = learner.config
    loss_fn = functools.partial(
        losses.ppo_loss,
        networks=learner.networks,
        clip_eps=cfg.clip_eps,
        value_coef=cfg.value_coef,
        entropy_coef=cfg.entropy_coef,
        bounds_coef=cfg.bounds_coef,
        action_bound=cfg.action_bound,
        value_clip_eps=cfg.value_clip_eps,
        normalize_advantages=cfg.normalize_advantages,
        kin_weight=cfg.kin_weight,
        policy_coef=cfg.policy_coef,
        symmetry_coef=cfg.symmetry_coef,
        mirror=learner.mirror,
    )
    grads, metrics = jax.grad(loss_fn, has_aux=True)(carry.params, normalizer_params, minibatch)
    grad_norm = optax.global_norm(grads)
    rate = learning_rate(carry.opt_state)
    updates, opt_state = learner.optimizer.update(grads, carry.opt_state, carry.params)
    params = optax.apply_updates(carry.params, updates)
    opt_state = _with_learning_rate(opt_state, adapt_learning_rate(rate, metrics["approx_kl"], cfg))
    finite = jnp.isfinite(grad_norm)
    carry = MinibatchCarry(
        params=select_tree(finite, params, carry.params),
        opt_state=select_tree(finite, opt_state, carry.opt_state),
    )
    metrics = {
        **metrics,
        "grad_norm": jnp.where(finite, grad_norm, 0.0),
        "skipped_updates": 1.0 - finite,
        "learning_rate": rate,  # the rate this step used
    }
    return carry, metrics


def epoch(
    learner: Learner, normalizer_params, batch: losses.PPOBatch, carry: EpochCarry, _: None
) -> tuple[EpochCarry, dict[str, Array]]:
    """Shuffle the flat batch [N] into [num_minibatches, M] and step through it (a scan body)."""
    key, key_perm = jax.random.split(carry.key)
    n = jax.tree.leaves(batch)[0].shape[0]
    count = n // learner.config.minibatch_size
    perm = jax.random.permutation(key_perm, n)
    minibatches = jax.tree.map(lambda x: x[perm].reshape((count, -1) + x.shape[1:]), batch)
    step = functools.partial(minibatch_step, learner, normalizer_params)
    inner, metrics = jax.lax.scan(step, MinibatchCarry(carry.params, carry.opt_state), minibatches)
    return EpochCarry(inner.params, inner.opt_state, key), metrics


def run_epochs(
    learner: Learner, normalizer_params, batch: losses.PPOBatch, params: Params, opt_state, key: Array
) -> tuple[Params, optax.OptState, dict[str, Array]]:
    """``config.num_epochs`` epochs on the flat batch: the new parameters and optimiser
    state, and each minibatch step's metrics ``[epochs, minibatches]``."""
    step = functools.partial(epoch, learner, normalizer_params, batch)
    carry, metrics = jax.lax.scan(step, EpochCarry(params, opt_state, key), None, length=learner.config.num_epochs)
    return carry.params, carry.opt_state, metrics


__all__ = ["EpochCarry", "Learner", "MinibatchCarry", "epoch", "make_optimizer", "minibatch_step", "run_epochs"]
