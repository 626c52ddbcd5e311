"""Episodes for training: time limit, auto-reset, NaN reset and episode statistics.

A plain environment (:class:`physhmr_jax.envs.imitation.ImitationEnv`, later the vision
env) steps forever and only *reports* ``terminated`` / ``truncated``. Training needs
episodes; :func:`wrap_for_training` is the one function that adds them
(mujoco_playground's ``EpisodeWrapper`` + ``BraxAutoResetWrapper``, in one layer with
typed fields instead of an ``info`` dict):

  * **time limit**: an episode is truncated after ``episode_length_steps`` steps;
  * **NaN reset**: a step whose observation or reward is not finite counts as a failure
    with zero reward and zeroed metrics, and is counted in ``metrics["nan"]``; nothing
    non-finite leaves the wrapper;
  * **auto-reset**: a finished environment starts a new episode (the env's ``reset``
    with a key split off the env's own) in the same call. The returned state holds the
    *new* episode's inner state and observation, and the *finishing* step's reward, done
    flags and metrics; the finishing step's observation is kept in ``final_obs`` so that
    a learner can bootstrap truncated episodes;
  * **episode statistics**: ``episode_steps`` and ``episode_return`` of the episode each
    step belongs to (read them where ``done``).

The wrapped env follows the training driver's contract
(:class:`physhmr_jax.agents.acting.Env`).
"""

from __future__ import annotations

from typing import Any, Protocol

import jax
import jax.numpy as jnp
from flax import struct
from jax import Array

from physhmr_jax.agents import metric_names

NAN = metric_names.NAN_RESET  # metric: 1 where the step's physics went non-finite (and was reset)


class PlainEnv(Protocol):
    """What the wrapper needs: states with ``obs``, ``reward``, ``terminated``,
    ``truncated``, ``metrics`` and ``key`` (the PRNG key of the env's resets)."""

    observation_size: int
    action_size: int

    def reset(self, key: Array, env_data: Any) -> Any: ...

    def step(self, state: Any, action: Array, env_data: Any) -> Any: ...


@struct.dataclass
class EpisodeState:
    """A training environment's state (add a leading batch axis under ``vmap``).

    ``reward``, ``done``, ``terminated``, ``truncated``, ``metrics``, ``episode_steps`` and
    ``episode_return`` describe the step that produced this state; when ``done`` is 1,
    ``inner``, ``obs``, ``step_count`` and ``return_so_far`` already belong to the next
    episode.
    """

    inner: Any  # the plain env's state
    obs: Array  # [O] observation to act on (the new episode's after an auto-reset)
    final_obs: Array  # [O] observation before any auto-reset (== obs unless done)
    reward: Array  # [] float32
    done: Array  # [] float32, terminated or truncated
    terminated: Array  # [] float32, failure (the env's, or non-finite physics): no bootstrap
    truncated: Array  # [] float32, time limit or the env's truncation, not a failure: bootstrap
    step_count: Array  # [] int32, control steps since the current episode began
    return_so_far: Array  # [] float32, reward summed since the current episode began
    episode_steps: Array  # [] int32, steps of the episode this step belongs to, this one included
    episode_return: Array  # [] float32, return of the episode this step belongs to, this one included
    metrics: dict[str, Array]  # the env's metrics of this step, and NAN


class EnvWrapper:
    """An env around ``env``, with its observation and action sizes."""

    def __init__(self, env: PlainEnv):
        self.env = env

    @property
    def observation_size(self) -> int:
        return self.env.observation_size

    @property
    def action_size(self) -> int:
        return self.env.action_size


class TrainingEnv(EnvWrapper):
    """``env`` with episodes (see the module docstring); pure, single-environment functions."""

    def __init__(self, env: PlainEnv, *, episode_length_steps: int):
        super().__init__(env)
        self.episode_length_steps = episode_length_steps

    def start(self, inner: Any) -> EpisodeState:
        """Begin an episode at the plain env's state ``inner`` (e.g. from ``reset_to``)."""
        zero = jnp.zeros((), jnp.float32)
        zero_steps = jnp.zeros((), jnp.int32)
        return EpisodeState(
            inner=inner,
            obs=inner.obs,
            final_obs=inner.obs,
            reward=zero,
            done=zero,
            terminated=zero,
            truncated=zero,
            step_count=zero_steps,
            return_so_far=zero,
            episode_steps=zero_steps,
            episode_return=zero,
            metrics={**inner.metrics, NAN: zero},
        )

    def reset(self, key: Array, env_data: Any) -> EpisodeState:
        return self.start(self.env.reset(key, env_data))

    def step(self, state: EpisodeState, action: Array, env_data: Any) -> EpisodeState:
        return self.after_step(state, self.env.step(state.inner, action, env_data), env_data)

    def after_step(self, state: EpisodeState, inner: Any, env_data: Any) -> EpisodeState:
        """The episode logic of :meth:`step`, given the plain env's stepped state ``inner``."""
        finite = jnp.all(jnp.isfinite(inner.obs)) & jnp.isfinite(inner.reward)
        reward = jnp.where(finite, inner.reward, 0.0)
        metrics = {k: jnp.where(finite, v, 0.0) for k, v in inner.metrics.items()}
        metrics[NAN] = (~finite).astype(jnp.float32)
        final_obs = jnp.where(finite, inner.obs, 0.0)

        step_count = state.step_count + 1
        return_so_far = state.return_so_far + reward
        terminated = (inner.terminated > 0) | ~finite
        truncated = ((inner.truncated > 0) | (step_count >= self.episode_length_steps)) & ~terminated
        done = terminated | truncated

        # The env's key goes on whether or not the env resets; the reset draws from a split.
        key, key_reset = jax.random.split(inner.key)
        fresh = self.env.reset(key_reset, env_data)

        def pick(new, old):
            return jnp.where(done, new, old)

        return EpisodeState(
            inner=jax.tree.map(pick, fresh, inner).replace(key=key),
            obs=pick(fresh.obs, final_obs),
            final_obs=final_obs,
            reward=reward.astype(jnp.float32),
            done=done.astype(jnp.float32),
            terminated=terminated.astype(jnp.float32),
            truncated=truncated.astype(jnp.float32),
            step_count=pick(0, step_count),
            return_so_far=pick(0.0, return_so_far),
            episode_steps=step_count,
            episode_return=return_so_far,
            metrics=metrics,
        )


def wrap_for_training(env: PlainEnv, *, episode_length_steps: int) -> TrainingEnv:
    """The one composition of the training wrappers (time limit, NaN reset, auto-reset, stats)."""
    return TrainingEnv(env, episode_length_steps=episode_length_steps)


__all__ = ["NAN", "EnvWrapper", "EpisodeState", "PlainEnv", "TrainingEnv", "wrap_for_training"]
