"""Acting: a policy type and the one rollout that training, evaluation and benchmarks share.

Shape of the code (brax ``training/acting.py``: ``make_inference_fn`` and
``generate_unroll``):

  * A :class:`Policy` maps a batch of observations and a PRNG key to actions and a dict of
    extras (``log_prob``). :func:`make_policy` builds one from the PPO networks' parameters,
    sampling or taking the mean (``deterministic``).
  * :func:`rollout` steps a batch of environments ``num_steps`` times under ``lax.scan``
    with :func:`_rollout_step` as the scan body and returns the stacked
    :class:`Transition` ``[T, B]``. A ``record(state, action, next_state)`` hook adds
    fields to ``Transition.extras``: PPO records the critic's values there, evaluation the
    simulated and reference bodies, DAgger the teacher's action.

The environment is any batched ``step(state, action) -> state`` whose states carry
``obs`` ``[B, O]``, ``reward``, ``terminated``, ``truncated`` ``[B]`` and a ``metrics``
dict of ``[B]`` arrays: a training env behind the episode wrappers
(``physhmr_jax.envs.wrappers``) and a plain env for evaluation both fit.

Non-finite numbers never reach the simulator or the learner: a non-finite action is
replaced by zeros before the step, and a transition with any non-finite number (its
observation, action, reward or recorded extras) is zeroed and marked ``valid = 0``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
from jax import Array

from physhmr_jax.agents import losses
from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents.networks import Params, PPONetworks, gaussian_log_prob

LOG_PROB = "log_prob"  # Transition.extras key of the behaviour policy's log-probability


class PolicyParams(NamedTuple):
    """The arrays a trained policy acts with: what :func:`make_policy` (and every play of a
    frozen policy) reads of a training state. The teacher in distillation, an exported
    expert or student, and the evaluations' plays all carry this one pytree."""

    params: Params  # {"policy": ...}
    normalizer_params: Any


# record(state, action, next_state) -> {name: [B, ...]}: extra fields of a transition.
Recorder = Callable[[Any, Array, Any], Mapping[str, Array]]
# step(state [B], action [B, A]) -> state [B]: a batched environment step.
StepFn = Callable[[Any, Array], Any]


class Env(Protocol):
    """A training environment as the driver sees it: one environment, pure functions.

    ``env_data`` holds the arrays the environment reads and never changes (a motion
    library, videos); it is an argument, never closed over, so one compiled program serves
    any data of the same shapes. States carry ``obs``, ``reward``, ``terminated``,
    ``truncated``, ``metrics`` and, behind the episode wrappers, ``final_obs`` (the
    observation before an auto-reset), ``episode_steps`` and ``episode_return``.
    """

    observation_size: int
    action_size: int

    def reset(self, key: Array, env_data: Any) -> Any: ...

    def step(self, state: Any, action: Array, env_data: Any) -> Any: ...


def batched_step(env: Env, env_data: Any) -> StepFn:
    """``step(states [B], actions [B, A]) -> states [B]`` of ``env`` on shared ``env_data``."""
    step = jax.vmap(env.step, in_axes=(0, 0, None))
    return lambda state, action: step(state, action, env_data)


class Policy(Protocol):
    """``policy(obs [B, O], key) -> (action [B, A], extras {name: [B, ...]})``."""

    def __call__(self, obs: Array, key: Array) -> tuple[Array, dict[str, Array]]: ...


class Transition(NamedTuple):
    """One control step of one environment (the rollout stacks them to ``[T, B, ...]``)."""

    obs: Array  # [O] observation the action was chosen from
    action: Array  # [A] the policy's action (the env clips it)
    reward: Array  # []
    terminated: Array  # [] 1.0: the episode failed here (no bootstrap)
    truncated: Array  # [] 1.0: time limit or clip end, not a failure (bootstrap)
    valid: Array  # [] 1.0 if every number of this transition was finite
    extras: dict[str, Array]  # the policy's extras and the record hook's fields
    metrics: dict[str, Array]  # the env's per-step metrics after the step


class RolloutCarry(NamedTuple):
    env_state: Any  # batched env state [B]
    key: Array


def make_policy(networks: PPONetworks, params: Params, normalizer_params: Any, *, deterministic: bool) -> Policy:
    """The Gaussian policy of ``params``: the mean action when ``deterministic``, else a sample.

    ``extras["log_prob"]`` is the log-probability of the returned action under the policy.
    """

    def policy(obs: Array, key: Array) -> tuple[Array, dict[str, Array]]:
        mean, log_std = networks.policy(params, normalizer_params, obs)
        if deterministic:
            action = mean
        else:
            action = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape, mean.dtype)
        return action, {LOG_PROB: gaussian_log_prob(action, mean, log_std)}

    return policy


def _all_finite(x: Array) -> Array:
    """[B, ...] -> [B] True where every entry of that environment's slice is finite."""
    return jnp.all(jnp.isfinite(x), axis=tuple(range(1, x.ndim)))


def _rollout_step(
    step: StepFn, policy: Policy, record: Recorder | None, carry: RolloutCarry, _: None
) -> tuple[RolloutCarry, Transition]:
    """Act in every environment once: [B] states -> [B] states and a [B] Transition."""
    key, key_policy = jax.random.split(carry.key)
    state = carry.env_state
    action, extras = policy(state.obs, key_policy)
    action_finite = _all_finite(action)
    # A non-finite action never reaches the simulator.
    next_state = step(state, jnp.where(action_finite[:, None], action, 0.0))
    if record is not None:
        extras = {**extras, **record(state, action, next_state)}

    valid = _all_finite(state.obs) & action_finite & jnp.isfinite(next_state.reward)
    for value in extras.values():
        valid = valid & _all_finite(value)

    def keep(x, fill=0.0):
        mask = valid.reshape(valid.shape + (1,) * (x.ndim - 1))
        return jnp.where(mask, x, fill)

    transition = Transition(
        obs=keep(state.obs),
        action=keep(action),
        reward=keep(next_state.reward),
        # An invalid step ends its GAE chain like a failure (and is masked out anyway).
        terminated=keep(next_state.terminated, 1.0),
        truncated=keep(next_state.truncated),
        valid=valid.astype(jnp.float32),
        extras={k: keep(v) for k, v in extras.items()},
        metrics={k: keep(v) for k, v in next_state.metrics.items()},
    )
    return RolloutCarry(next_state, key), transition


def rollout(
    step: StepFn, policy: Policy, env_state: Any, key: Array, num_steps: int, *, record: Recorder | None = None
) -> tuple[Any, Transition]:
    """``num_steps`` steps of every environment: the last states and the Transition ``[T, B]``."""
    body = functools.partial(_rollout_step, step, policy, record)
    carry, transitions = jax.lax.scan(body, RolloutCarry(env_state, key), None, length=num_steps)
    return carry.env_state, transitions


# --------------------------------------------------------------------------------------
# Episode statistics of a training rollout.

EPISODE_STEPS = "episode_steps"  # Transition.extras keys recorded by ``record_episodes``
EPISODE_RETURN = "episode_return"


def record_episodes(state: Any, action: Array, next_state: Any) -> dict[str, Array]:
    """Record hook: the length and return of the episode each step belongs to.

    Reads the episode wrapper's typed fields (``physhmr_jax.envs.wrappers.EpisodeState``);
    meaningful where the step ended the episode.
    """
    del state, action
    return {
        EPISODE_STEPS: next_state.episode_steps.astype(jnp.float32),
        EPISODE_RETURN: next_state.episode_return,
    }


def summarize_rollout(transitions: Transition) -> dict[str, Array]:
    """Scalar metrics of a ``[T, B]`` training rollout (means over valid transitions).

    Episode length, return and the episode success rate (the fraction of ended episodes
    that ended by truncation, i.e. reached the time limit or the clip's end without
    failing) average the episodes that *ended* within the rollout (0 if none did; weigh by
    ``rollout/episodes`` when pooling rollouts). They need the :func:`record_episodes`
    extras. Every env metric is averaged under :func:`metric_names.env_metric`.
    """
    valid = transitions.valid
    done = jnp.maximum(transitions.terminated, transitions.truncated) * valid
    episodes = jnp.sum(done)
    per_episode = lambda x: jnp.sum(x * done) / jnp.maximum(episodes, 1.0)  # noqa: E731
    extras = transitions.extras
    metrics = {
        names.REWARD_MEAN: losses.masked_mean(transitions.reward, valid),
        names.EPISODES: episodes,
        names.EPISODE_LENGTH: per_episode(extras[EPISODE_STEPS]),
        names.EPISODE_SUCCESS_RATE: per_episode(transitions.truncated * (1.0 - transitions.terminated)),
        names.TERMINATION_RATE: losses.masked_mean(transitions.terminated, valid),
        names.TRUNCATION_RATE: losses.masked_mean(transitions.truncated, valid),
        names.NONFINITE_TRANSITIONS: jnp.sum(1.0 - valid),
        names.EPISODE_RETURN: per_episode(extras[EPISODE_RETURN]),
    }
    for name, value in transitions.metrics.items():
        metrics[names.env_metric(name)] = losses.masked_mean(value, valid)
    return metrics


__all__ = [
    "Env",
    "batched_step",
    "EPISODE_RETURN",
    "EPISODE_STEPS",
    "LOG_PROB",
    "Policy",
    "Recorder",
    "RolloutCarry",
    "StepFn",
    "Transition",
    "make_policy",
    "record_episodes",
    "rollout",
    "summarize_rollout",
]
