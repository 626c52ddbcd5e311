"""The training wrappers (``envs/wrappers.py``) on a toy plain env: no MJX, seconds to compile.

The same checks run on the humanoid in ``tests/test_imitation_env.py`` (the NaN one in
``make test-full``).
"""

import jax
import jax.numpy as jnp
from nan_rollout_check import NUM_ENVS, check_nan_mid_rollout
from toy_env import PlainToyEnv

from physhmr_jax.envs import wrappers


def test_nan_mid_rollout_drops_that_env_from_the_update():
    env = PlainToyEnv()
    wrapped = wrappers.wrap_for_training(env, episode_length_steps=50)
    keys = jax.random.split(jax.random.PRNGKey(0), NUM_ENVS)
    times = jnp.array([0.5, 1.0, 0.5, 0.5])
    positions = jnp.array([[0.1, 0.0], [0.0, 0.2], [-0.3, 0.1], [0.2, -0.2]])
    start = jax.vmap(wrapped.start)(jax.vmap(env.reset_to)(keys, times, positions))
    poison_time = 1.0 + env.dt  # env 1 reaches it at its second step; the others never do
    check_nan_mid_rollout(wrapped, start, {}, poison_time, "distance_m", physics=lambda state: state.inner.position)
