"""The NaN-reset check of a PPO rollout, shared by the toy plain env (``make test``) and the
humanoid (``make test-full``): ``tests/test_wrappers.py``, ``tests/test_imitation_env.py``.

The wrapped env must make env 1 (of 4) go non-finite at its second step when
``env_data["poison_time_s"]`` is set to the motion time it then reaches, and never otherwise.
"""

from __future__ import annotations

import jax
import numpy as np

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import ppo
from physhmr_jax.envs import wrappers

NUM_ENVS = 4
HORIZON = 4


def check_nan_mid_rollout(wrapped, start, env_data, poison_time_s: float, distance_metric: str, physics) -> None:
    """NaN in env 1 at its second step of a PPO rollout from ``start`` (a wrapped state of
    ``NUM_ENVS`` envs): the env is reset and counted, the other envs' transitions are
    untouched, and the update equals the one learned from a clean rollout with env 1 left out.
    ``physics(state)`` reads the plain env's physics state (what the poison wrote NaN into)."""
    config = ppo.get_config("smoke", num_envs=NUM_ENVS, horizon=HORIZON, minibatch_size=8, policy_hidden=[32],
                            value_hidden=[32])  # fmt: skip
    algorithm = ppo.make_algorithm(wrapped, config)
    collect, learn = jax.jit(algorithm.collect), jax.jit(algorithm.learn)
    training_state = algorithm.init(jax.random.PRNGKey(0))
    key_rollout, key_learn = jax.random.PRNGKey(1), jax.random.PRNGKey(2)
    end_a, poisoned = collect(training_state, start, {**env_data, "poison_time_s": poison_time_s}, key_rollout)
    end_c, clean = collect(training_state, start, {**env_data, "poison_time_s": -1.0}, key_rollout)

    # Reset and counted: one NaN step, env 1 at its second step, where its 2-step episode
    # ended (a failure) and a new one began.
    nan = np.asarray(poisoned.metrics[wrappers.NAN])
    assert nan.sum() == 1 and nan[1, 1] == 1, nan
    assert float(poisoned.terminated[1, 1]) == 1.0 and float(poisoned.reward[1, 1]) == 0.0
    assert int(poisoned.extras["episode_steps"][1, 1]) == 2
    assert float(poisoned.metrics[distance_metric][1, 1]) == 0.0  # metrics of a NaN step zeroed
    assert float(clean.metrics[distance_metric][1, 1]) > 0.0
    assert np.isfinite(np.asarray(physics(end_a))).all()  # env 1 was reset to finite physics
    for leaf in jax.tree.leaves(poisoned):
        assert np.isfinite(np.asarray(leaf)).all()
    # The other environments never noticed.
    for leaf_a, leaf_c in zip(jax.tree.leaves(poisoned), jax.tree.leaves(clean), strict=True):
        np.testing.assert_array_equal(np.asarray(leaf_a)[:, [0, 2, 3]], np.asarray(leaf_c)[:, [0, 2, 3]])

    state_a, metrics_a = learn(training_state, poisoned, end_a.obs, key_learn)
    without_env_1 = clean._replace(valid=clean.valid.at[:, 1].set(0.0))
    state_c, _ = learn(training_state, without_env_1, end_c.obs, key_learn)
    state_full, _ = learn(training_state, clean, end_c.obs, key_learn)
    assert float(metrics_a[names.DROPPED_ENVS]) == 1.0
    for leaf in jax.tree.leaves(state_a):
        assert np.isfinite(np.asarray(leaf)).all()
    for leaf_a, leaf_c in zip(jax.tree.leaves(state_a), jax.tree.leaves(state_c), strict=True):
        np.testing.assert_array_equal(np.asarray(leaf_a), np.asarray(leaf_c))
    # ... and env 1 does matter when it is clean: the update with it differs.
    kernel = lambda s: np.asarray(jax.tree.leaves(s.params["policy"])[-1])  # noqa: E731
    assert not np.array_equal(kernel(state_a), kernel(state_full))
    assert int(state_a.normalizer_params.count.lo) == (NUM_ENVS - 1) * HORIZON  # env 1 left out
    assert collect._cache_size() == 1 and learn._cache_size() == 1
