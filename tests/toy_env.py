"""A toy environment for the training driver's tests: fast to compile, runs in milliseconds.

Shared by ``tests/test_ppo.py`` and the crash-safety child process (``tests/crash_child.py``).
"""

import jax
import jax.numpy as jnp
from flax import struct

from physhmr_jax.agents import ppo


@struct.dataclass
class ToyState:
    position: jax.Array  # [2]
    obs: jax.Array
    final_obs: jax.Array
    reward: jax.Array
    done: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    step_count: jax.Array
    return_so_far: jax.Array
    episode_steps: jax.Array
    episode_return: jax.Array
    key: jax.Array
    metrics: dict


class ToyEnv:
    """A point on a plane pushed by the action (0.2 m per unit); reward 1 - |position|^2.

    Fails beyond 1.5 m from the origin; episodes are truncated after 16 steps. With
    ``nan_on_step`` the reward of that step of an episode is NaN when it starts from x > 0.
    It keeps its own episodes (the training contract, as ``envs/wrappers.py`` provides it
    for the humanoid), so that a NaN reaches the learner unfiltered.
    """

    observation_size = 2
    action_size = 2
    episode_length_steps = 16

    def __init__(self, nan_on_step: int | None = None):
        self.nan_on_step = nan_on_step

    def reset(self, key, motion_lib):
        del motion_lib
        key, key_start = jax.random.split(key)
        position = jax.random.uniform(key_start, (2,), minval=-1.0, maxval=1.0)
        zero, zero_steps = jnp.zeros(()), jnp.zeros((), jnp.int32)
        metrics = {"distance_m": jnp.linalg.norm(position)}
        return ToyState(
            position, position, position, zero, zero, zero, zero, zero_steps, zero, zero_steps, zero, key, metrics
        )

    def step(self, state, action, motion_lib):
        position = state.position + 0.2 * jnp.clip(action, -1.0, 1.0)
        step_count = state.step_count + 1
        distance = jnp.linalg.norm(position)
        reward = 1.0 - distance**2
        if self.nan_on_step is not None:
            reward = jnp.where((step_count == self.nan_on_step) & (state.obs[0] > 0), jnp.nan, reward)
        failed = distance > 1.5
        truncated = (step_count >= self.episode_length_steps) & ~failed
        done = failed | truncated
        key, key_reset = jax.random.split(state.key)
        fresh = self.reset(key_reset, motion_lib)

        def pick(new, old):
            return jnp.where(done, new, old)

        return ToyState(
            position=pick(fresh.position, position),
            obs=pick(fresh.obs, position),
            final_obs=position,
            reward=reward,
            done=done.astype(jnp.float32),
            terminated=failed.astype(jnp.float32),
            truncated=truncated.astype(jnp.float32),
            step_count=pick(fresh.step_count, step_count),
            return_so_far=pick(0.0, state.return_so_far + reward),
            episode_steps=step_count,
            episode_return=state.return_so_far + reward,
            key=key,
            metrics={"distance_m": distance},
        )


def toy_config(**overrides):
    """The smoke PPO preset sized for the toy env (16 envs x 16 steps, 4 minibatches)."""
    settings = dict(
        num_envs=16,
        horizon=16,
        minibatch_size=64,
        num_epochs=4,
        policy_hidden=(32,),
        value_hidden=(32,),
        learning_rate=3e-3,
        num_seeds=2,
    )
    settings.update(overrides)
    return ppo.get_config("smoke", **settings)


@struct.dataclass
class PlainToyState:
    position: jax.Array  # [2] the "physics"
    obs: jax.Array  # [3] position and motion time
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    time_s: jax.Array
    key: jax.Array
    metrics: dict


class PlainToyEnv:
    """The toy task as a *plain* env (it steps forever and only reports ``terminated``), for
    the training wrappers (``envs/wrappers.py``) without MJX. Its motion time advances by
    ``dt`` per step; a step from the time ``env_data["poison_time_s"]`` writes NaN into the
    position first, as a blown-up physics step would."""

    observation_size = 3
    action_size = 2
    dt = 0.1

    def reset_to(self, key, time_s, position):
        zero = jnp.zeros(())
        obs = jnp.concatenate([position, time_s[None]])
        return PlainToyState(position, obs, zero, zero, zero, time_s, key, {"distance_m": jnp.linalg.norm(position)})

    def reset(self, key, env_data):
        del env_data
        key, key_start = jax.random.split(key)
        position = jax.random.uniform(key_start, (2,), minval=-1.0, maxval=1.0)
        return self.reset_to(key, jnp.zeros(()), position)

    def step(self, state, action, env_data):
        hit = jnp.abs(state.time_s - env_data["poison_time_s"]) < 1e-3
        position = jnp.where(hit, jnp.nan, state.position) + 0.2 * jnp.clip(action, -1.0, 1.0)
        time_s = state.time_s + self.dt
        distance = jnp.linalg.norm(position)
        return state.replace(
            position=position,
            obs=jnp.concatenate([position, time_s[None]]),
            reward=1.0 - distance**2,
            terminated=(distance > 1.5).astype(jnp.float32),
            truncated=jnp.zeros(()),
            time_s=time_s,
            metrics={"distance_m": distance},
        )
