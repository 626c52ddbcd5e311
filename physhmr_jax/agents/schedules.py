"""Schedules of PPO's learning rate and action std, and the rule every optimiser step here
follows: a step whose gradient is not finite is skipped.

The rate is a leaf of the optimiser state (``optax.inject_hyperparams``), so a schedule
changes it inside the one compiled iteration: ``fixed`` (PHC), ``linear`` in env steps,
or rl_games' ``kl_adaptive`` rule after every minibatch step. A scheduled action std is a
policy parameter that no gradient moves (``networks.GaussianPolicy.scheduled_std``); the
``linear`` schedule sets it at the start of each iteration, inside the same program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax import Array

from physhmr_jax.config_io import ConfigError


def select_tree(pred: Array, on_true, on_false):
    """``on_true`` where the scalar ``pred`` holds, else ``on_false``, leaf by leaf: how PPO and
    the motion prior keep their parameters and optimiser state when a step's gradient is not finite."""
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


def learning_rate(opt_state: optax.OptState) -> Array:
    """[] Adam's current learning rate in ``opt_state`` (:func:`physhmr_jax.agents.ppo.make_optimizer`'s layout)."""
    return opt_state[1].hyperparams["learning_rate"]


def _with_learning_rate(opt_state: optax.OptState, rate: float | Array) -> optax.OptState:
    clip_state, adam_state = opt_state
    hyperparams = {**adam_state.hyperparams, "learning_rate": jnp.asarray(rate, jnp.float32)}
    return (clip_state, adam_state._replace(hyperparams=hyperparams))


def set_learning_rate(training_state, rate: float | Array):
    """The same training state (any with ``opt_state``) with Adam's learning rate replaced
    (no recompilation needed)."""
    return training_state.replace(opt_state=_with_learning_rate(training_state.opt_state, rate))


def adapt_learning_rate(rate: Array, approx_kl: Array, config: ml_collections.ConfigDict) -> Array:
    """rl_games' adaptive rule: the next learning rate after a step that moved the policy by
    ``approx_kl`` (unchanged for the ``fixed`` schedule)."""
    schedule = config.learning_rate_schedule
    if schedule in ("fixed", "linear"):
        return rate
    if schedule != "kl_adaptive":
        raise ConfigError(f"ppo.learning_rate_schedule must be 'fixed', 'linear' or 'kl_adaptive', not {schedule!r}")
    factor = config.learning_rate_factor
    rate = jnp.where(approx_kl > 2.0 * config.kl_target, rate / factor, rate)
    rate = jnp.where(approx_kl < 0.5 * config.kl_target, rate * factor, rate)
    return jnp.clip(rate, config.learning_rate_min, config.learning_rate_max)


def _linear(env_steps: Array, start: float, final: float, decay_env_steps: float) -> Array:
    progress = jnp.minimum(env_steps / float(decay_env_steps), 1.0)
    return start + (final - start) * progress


def scheduled_learning_rate(env_steps: Array, config: ml_collections.ConfigDict) -> Array:
    """[] The ``linear`` schedule's rate after ``env_steps`` env steps (per seed)."""
    return _linear(env_steps, config.learning_rate, config.learning_rate_final, config.learning_rate_decay_env_steps)


def scheduled_log_std(env_steps: Array, config: ml_collections.ConfigDict) -> Array:
    """[] The ``linear`` ``ppo.log_std_schedule``'s log std after ``env_steps`` env steps (per seed)."""
    return _linear(env_steps, config.log_std_init, config.log_std_final, config.log_std_decay_env_steps)


def check_schedules(config: ml_collections.ConfigDict) -> None:
    """Raise :class:`ConfigError` for a schedule setting that cannot run, naming the key."""
    adapt_learning_rate(jnp.float32(config.learning_rate), jnp.float32(0.0), config)
    if config.learning_rate_schedule == "linear" and config.learning_rate_decay_env_steps <= 0:
        raise ConfigError(f"ppo.learning_rate_decay_env_steps must be > 0, not {config.learning_rate_decay_env_steps}")
    if config.policy_coef < 0.0:
        raise ConfigError(f"ppo.policy_coef must be >= 0, not {config.policy_coef}")
    if config.symmetry_coef < 0.0:
        raise ConfigError(f"ppo.symmetry_coef must be >= 0, not {config.symmetry_coef}")
    if not 0.0 <= config.policy_average_decay < 1.0:
        raise ConfigError(f"ppo.policy_average_decay must be within [0, 1), not {config.policy_average_decay}")
    if config.log_std_schedule not in ("fixed", "linear"):
        raise ConfigError(f"ppo.log_std_schedule must be 'fixed' or 'linear', not {config.log_std_schedule!r}")
    if config.log_std_schedule == "linear":
        if config.learn_std:
            raise ConfigError("ppo.log_std_schedule = 'linear' sets the std; it cannot also be learned (ppo.learn_std)")
        if config.log_std_decay_env_steps <= 0:
            raise ConfigError(f"ppo.log_std_decay_env_steps must be > 0, not {config.log_std_decay_env_steps}")


def set_log_std(training_state, log_std: float | Array):
    """The same training state with the policy's scheduled log std (every action dimension)
    set to ``log_std``; the policy must have been built with ``scheduled_std``."""
    params = training_state.params
    policy = params["policy"]["params"]
    policy = {**policy, "log_std": jnp.full_like(policy["log_std"], log_std)}
    return training_state.replace(params={**params, "policy": {**params["policy"], "params": policy}})


__all__ = [
    "adapt_learning_rate",
    "check_schedules",
    "learning_rate",
    "scheduled_learning_rate",
    "scheduled_log_std",
    "select_tree",
    "set_learning_rate",
    "set_log_std",
]
