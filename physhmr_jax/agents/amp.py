"""An adversarial motion prior (AMP; Peng et al. 2021) as PhysHMR fine-tunes with it.

PhysHMR's released code trains its student with ``phc/learning/amp_agent.py`` (ASE's AMP
agent): a discriminator D on state transitions (s, s') learns to tell the motion set's
transitions from the policy's, and its output becomes a style reward mixed into the task
reward, 0.5 / 0.5. What is here follows that agent:

* discriminator: an MLP on the normalised transition features with one logit out
  (:class:`Discriminator`); the features are normalised by running statistics of both
  the reference and the policy samples (ASE's ``_amp_input_mean_std``);
* loss (:func:`discriminator_loss`): binary cross-entropy, reference -> 1 and policy -> 0,
  averaged (0.5 each), + ``amp_logit_reg`` x the squared weights of the logit layer +
  ``amp_grad_penalty`` x E_reference[|dD/dx|^2] (x the normalised input) +
  ``amp_weight_decay`` x every squared weight. Its own Adam (``amp_learning_rate``),
  ``num_epochs`` epochs over the rollout's minibatches after the PPO epochs (:func:`update`);
* style reward (:func:`style_reward`): -log(max(1 - sigmoid(D), 1e-4)) x
  ``amp_reward_scale``, computed with the discriminator the rollout was collected under;
  the PPO reward is (1 - ``amp_weight``) x task + ``amp_weight`` x style.

Generic RL: nothing here knows the humanoid. The application supplies a
:class:`MotionPrior` (``physhmr_jax.envs.motion_prior`` builds the humanoid's): the
features of a policy transition, read by the rollout's record hook, and a sampler of the
motion set's transitions from the env data. ``amp_weight = 0`` (the default) builds none of
this: the PPO program is the one without a prior.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from brax.training.acme import running_statistics
from flax import struct
from jax import Array

from physhmr_jax.agents import acting, losses
from physhmr_jax.agents.networks import MLP, init_normalizer
from physhmr_jax.agents.schedules import select_tree

# Transition.extras keys: the policy's transition features (recorded) and as many reference
# transitions sampled from the motion set (drawn after the rollout).
POLICY_FEATURES = "amp_policy_features"
REFERENCE_FEATURES = "amp_reference_features"
_LOGIT_LAYER = "logit"
_MIN_ONE_MINUS_PROB = 1e-4  # ASE's clamp of 1 - sigmoid(D) in the reward's log


class MotionPrior(NamedTuple):
    """What the application tells the AMP learner about its transitions.

    features(state, next_state) -> [B, F]: a batch of the policy's transitions, from the
      states before and after a step (``next_state.final_obs`` is the observation before
      any auto-reset);
    sample(key, env_data, n) -> [n, F]: ``n`` transitions of the motion set;
    feature_size: F.
    """

    features: Callable[[Any, Any], Array]
    sample: Callable[[Array, Any, int], Array]
    feature_size: int


@struct.dataclass
class PriorState:
    """The discriminator's parameters, optimiser state and feature statistics (a pytree)."""

    params: Any
    opt_state: optax.OptState
    normalizer_params: running_statistics.RunningStatisticsState


class Discriminator(nn.Module):
    """Transition features [..., F] (normalised) -> logit [...]."""

    hidden: tuple[int, ...]
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        return MLP(self.hidden, 1, self.activation, out_name=_LOGIT_LAYER)(x)[..., 0]


def make_discriminator(config: ml_collections.ConfigDict) -> Discriminator:
    return Discriminator(hidden=tuple(config.amp_hidden))


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(config.amp_learning_rate))


def init_state(key: Array, feature_size: int, config: ml_collections.ConfigDict) -> PriorState:
    params = make_discriminator(config).init(key, jnp.zeros((1, feature_size), jnp.float32))
    return PriorState(params, make_optimizer(config).init(params), init_normalizer(feature_size))


def _logits(discriminator: Discriminator, params, normalizer_params, features: Array) -> Array:
    x = running_statistics.normalize(features, normalizer_params)
    return discriminator.apply(params, x)


def style_reward(state: PriorState, features: Array, config: ml_collections.ConfigDict) -> Array:
    """[...] ASE's style reward of transitions ``features`` [..., F] under ``state``."""
    logits = _logits(make_discriminator(config), state.params, state.normalizer_params, features)
    one_minus_prob = jnp.maximum(1.0 - jax.nn.sigmoid(logits), _MIN_ONE_MINUS_PROB)
    return -jnp.log(one_minus_prob) * config.amp_reward_scale


def mix_rewards(task: Array, style: Array, config: ml_collections.ConfigDict) -> Array:
    """The reward PPO learns from: (1 - amp_weight) task + amp_weight style."""
    return (1.0 - config.amp_weight) * task + config.amp_weight * style


def _squared_weights(params, *, logit_only: bool) -> Array:
    def keep(path, leaf):
        names = [getattr(entry, "key", "") for entry in path]
        return names[-1] == "kernel" and (not logit_only or _LOGIT_LAYER in names)

    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    return sum(jnp.sum(jnp.square(leaf)) for path, leaf in leaves if keep(path, leaf))


def discriminator_loss(
    params, normalizer_params, policy: Array, reference: Array, mask: Array, *, config: ml_collections.ConfigDict
) -> tuple[Array, dict[str, Array]]:
    """ASE's discriminator loss on a minibatch: policy [N, F], reference [N, F], mask [N]."""
    discriminator = make_discriminator(config)
    weight = mask / jnp.maximum(jnp.sum(mask), 1.0)
    policy_logits = _logits(discriminator, params, normalizer_params, policy)

    # The gradient penalty is taken with respect to the normalised inputs, as ASE does.
    normalized_reference = running_statistics.normalize(reference, normalizer_params)
    reference_logits, grad_fn = jax.vjp(lambda x: discriminator.apply(params, x), normalized_reference)
    (input_grad,) = grad_fn(jnp.ones_like(reference_logits))
    bce_policy = jnp.sum(weight * optax.sigmoid_binary_cross_entropy(policy_logits, jnp.zeros_like(policy_logits)))
    bce_reference = jnp.mean(optax.sigmoid_binary_cross_entropy(reference_logits, jnp.ones_like(reference_logits)))
    grad_penalty = jnp.mean(jnp.sum(jnp.square(input_grad), axis=-1))
    loss = (
        0.5 * (bce_policy + bce_reference)
        + config.amp_logit_reg * _squared_weights(params, logit_only=True)
        + config.amp_grad_penalty * grad_penalty
        + config.amp_weight_decay * _squared_weights(params, logit_only=False)
    )
    metrics = {
        "loss": loss,
        "grad_penalty": grad_penalty,
        # How often D tells them apart (logit sign), and its mean logits.
        "policy_accuracy": jnp.sum(weight * (policy_logits < 0)),
        "reference_accuracy": jnp.mean(reference_logits > 0),
        "policy_logit": jnp.sum(weight * policy_logits),
        "reference_logit": jnp.mean(reference_logits),
    }
    return loss, metrics


def update(
    state: PriorState,
    policy: Array,
    reference: Array,
    mask: Array,
    key: Array,
    config: ml_collections.ConfigDict,
) -> tuple[PriorState, dict[str, Array]]:
    """``config.num_epochs`` epochs of Adam steps on shuffled minibatches of the rollout's
    policy and reference transitions (flat [N, F], [N, F], mask [N]); then the feature
    statistics absorb both. Returns the new state and the loss metrics (means)."""
    optimizer = make_optimizer(config)
    n = policy.shape[0]
    count = n // config.minibatch_size
    loss_grad = jax.grad(functools.partial(discriminator_loss, config=config), has_aux=True)

    def minibatch_step(carry, batch):
        params, opt_state = carry
        grads, metrics = loss_grad(params, state.normalizer_params, *batch)
        updates, new_opt_state = optimizer.update(grads, opt_state, params)
        finite = jnp.isfinite(optax.global_norm(grads))
        return select_tree(finite, (optax.apply_updates(params, updates), new_opt_state), (params, opt_state)), metrics

    def epoch(carry, epoch_key):
        perm = jax.random.permutation(epoch_key, n)
        batches = jax.tree.map(lambda x: x[perm].reshape((count, -1) + x.shape[1:]), (policy, reference, mask))
        return jax.lax.scan(minibatch_step, carry, batches)

    keys = jax.random.split(key, config.num_epochs)
    (params, opt_state), metrics = jax.lax.scan(epoch, (state.params, state.opt_state), keys)
    both = jnp.concatenate([policy, reference])
    weights = jnp.concatenate([mask, jnp.ones_like(mask)])
    normalizer_params = running_statistics.update(state.normalizer_params, both, weights=weights)
    metrics = jax.tree.map(jnp.mean, metrics)
    return PriorState(params, opt_state, normalizer_params), metrics


def with_reference(prior: MotionPrior, key: Array, env_data: Any, transitions: acting.Transition) -> acting.Transition:
    """``transitions`` [T, B] with as many motion-set transitions in ``extras``
    (:data:`REFERENCE_FEATURES`) for the discriminator's update."""
    features = transitions.extras[POLICY_FEATURES]
    reference = prior.sample(key, env_data, features.shape[0] * features.shape[1])
    return transitions._replace(extras={**transitions.extras, REFERENCE_FEATURES: reference.reshape(features.shape)})


def with_style_reward(
    state: PriorState, transitions: acting.Transition, config: ml_collections.ConfigDict
) -> tuple[acting.Transition, Array]:
    """(``transitions`` with the mixed reward, the mean style reward over valid transitions)."""
    style = style_reward(state, transitions.extras[POLICY_FEATURES], config)
    mean = losses.masked_mean(style, transitions.valid)
    reward = mix_rewards(transitions.reward, style, config) * transitions.valid
    return transitions._replace(reward=reward), mean


def learn(
    state: PriorState, transitions: acting.Transition, key: Array, config: ml_collections.ConfigDict
) -> tuple[PriorState, dict[str, Array]]:
    """:func:`update` on a rollout's transitions [T, B] (``valid`` masks the policy's)."""
    flat = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), transitions.extras)
    mask = transitions.valid.reshape(-1)
    return update(state, flat[POLICY_FEATURES], flat[REFERENCE_FEATURES], mask, key, config)


__all__ = [
    "POLICY_FEATURES",
    "REFERENCE_FEATURES",
    "Discriminator",
    "MotionPrior",
    "PriorState",
    "discriminator_loss",
    "init_state",
    "learn",
    "make_discriminator",
    "make_optimizer",
    "mix_rewards",
    "style_reward",
    "update",
    "with_reference",
    "with_style_reward",
]
