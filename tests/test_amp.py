"""The adversarial motion prior (agents/amp.py) on the toy env: a style reward alone steers
the policy to the motion set's states; the discriminator separates the two sets; the
prior's state rides in the training state; AMP off builds no prior.

The humanoid's transition features (envs/motion_prior.py) are checked against MuJoCo in
``tests/test_imitation_env.py``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_env import ToyEnv, toy_config

from physhmr_jax.agents import acting, amp, ppo, runner, sharding
from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents.run_dir import Checkpoints
from physhmr_jax.config_io import ConfigError

TARGET = jnp.array([0.5, -0.5])  # where the toy "motion set" stands still
ITERATIONS = 80


def _toy_prior() -> amp.MotionPrior:
    """A transition's feature is where it ends; the motion set's are near TARGET."""

    def features(state, next_state):
        del state
        return next_state.final_obs

    def sample(key, env_data, n):
        del env_data
        return TARGET + 0.05 * jax.random.normal(key, (n, 2))

    return amp.MotionPrior(features, sample, feature_size=2)


def _config(**overrides):
    # A gentler gradient penalty than the humanoid's 5: the toy's features are 2-D and the
    # motion set is a 5 cm blob (in 80 iterations on 4 seeds, 0.5 reached 0.03-0.05 m, 5: 0.16-0.35).
    settings = dict(
        log_std_init=-1.0, learning_rate=1e-2, amp_weight=1.0, amp_hidden=[32, 32], amp_learning_rate=3e-3,
        amp_grad_penalty=0.5,
    )  # fmt: skip
    return toy_config(**{**settings, **overrides})


def _distance_to_target(env, training_state, key) -> float:
    """Mean distance to TARGET over 16 steps of the deterministic policy (the one rollout)."""
    config = toy_config()
    nets = ppo.make_networks(env, config)
    policy = acting.make_policy(nets, training_state.params, training_state.normalizer_params, deterministic=True)
    env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, 64), None)
    _, transitions = acting.rollout(acting.batched_step(env, None), policy, env_state, key, 16)
    return float(jnp.linalg.norm(transitions.obs[8:] - TARGET, axis=-1).mean())


def test_style_reward_alone_steers_the_policy_to_the_motion_set():
    env, config = ToyEnv(), _config()
    algorithm = ppo.make_algorithm(env, config, motion_prior=_toy_prior())
    trainer = runner.Trainer(algorithm, num_seeds=config.num_seeds)
    state = trainer.init(jax.random.PRNGKey(0), None)
    chex.assert_tree_all_finite(state.training_state.prior)
    first = sharding.to_host(state.training_state)
    history = []
    for _ in range(ITERATIONS):
        state, metrics = trainer.step(state, None)
        history.append(sharding.to_host(metrics))
    metrics = {k: np.stack([m[k] for m in history], axis=1) for k in history[0]}
    for name in (names.STYLE_REWARD_MEAN, names.amp_metric("loss"), names.amp_metric("reference_accuracy")):
        assert name in metrics and np.isfinite(metrics[name]).all(), name
    last = sharding.to_host(state.training_state)
    before = [_distance_to_target(env, runner.unreplicate_seed(first, s), jax.random.PRNGKey(3)) for s in range(2)]
    after = [_distance_to_target(env, runner.unreplicate_seed(last, s), jax.random.PRNGKey(3)) for s in range(2)]
    style = metrics[names.STYLE_REWARD_MEAN]
    print(f"\ndistance to the motion set before / after: {before} / {after}; style reward first / last 5: "
          f"{style[:, :5].mean(-1)} / {style[:, -5:].mean(-1)}")  # fmt: skip
    # The task reward (stay near the origin) is weighted 0: only the prior moves the policy.
    # Measured: before 1.04 / 1.04 m, after 0.03 / 0.07 m; style reward 0.99 / 0.67 -> 1.35 / 1.33.
    assert all(a < 0.4 * b for a, b in zip(after, before, strict=True)), (before, after)
    assert np.all(style[:, -5:].mean(-1) > style[:, :5].mean(-1)), style
    # The discriminator tells the motion set from the early policy.
    assert np.all(metrics[names.amp_metric("reference_accuracy")][:, :5].mean(-1) > 0.7), metrics
    assert trainer._compiled["step"]._cache_size() == 1


def test_style_reward_and_mixing_by_hand():
    config = _config(amp_weight=0.25, amp_reward_scale=2.0)
    state = amp.init_state(jax.random.PRNGKey(0), 4, config)
    features = jax.random.normal(jax.random.PRNGKey(1), (5, 4))
    logits = amp.make_discriminator(config).apply(state.params, features)  # fresh statistics: identity
    expected = -np.log(np.maximum(1.0 - jax.nn.sigmoid(logits), 1e-4)) * 2.0
    np.testing.assert_allclose(amp.style_reward(state, features, config), expected, rtol=1e-5)
    np.testing.assert_allclose(amp.mix_rewards(jnp.ones(5), jnp.full(5, 3.0), config), np.full(5, 0.75 + 0.75))


def test_amp_off_builds_no_prior_and_on_needs_one():
    env = ToyEnv()
    state = ppo.make_algorithm(env, toy_config()).init(jax.random.PRNGKey(0))
    assert state.prior is None
    # The prior is ignored at weight 0: the program and the state are the plain PPO ones.
    plain = ppo.make_algorithm(env, toy_config(), motion_prior=_toy_prior()).init(jax.random.PRNGKey(0))
    assert plain.prior is None
    chex.assert_trees_all_equal(plain.params, state.params)
    with pytest.raises(ConfigError, match="motion prior"):
        ppo.make_algorithm(env, _config())
    with pytest.raises(ConfigError, match="amp_weight"):
        ppo.make_algorithm(env, _config(amp_weight=1.5), motion_prior=_toy_prior())


def test_prior_state_round_trips_through_a_checkpoint(tmp_path):
    """The discriminator's state is part of the checkpoint; the restore template that
    ``init_training_state(..., motion_prior=)`` builds (only the feature size is read) fits it."""
    env, config = ToyEnv(), _config()
    state = ppo.make_algorithm(env, config, motion_prior=_toy_prior()).init(jax.random.PRNGKey(0))
    checkpoints = Checkpoints(tmp_path)
    checkpoints.save(1, {"training_state": state}, {})
    checkpoints.wait()
    shapes_only = amp.MotionPrior(None, None, feature_size=2)
    template = jax.eval_shape(
        lambda k: ppo.init_training_state(env, config, k, motion_prior=shapes_only), jax.random.PRNGKey(0)
    )
    restored, _ = checkpoints.restore(1, {"training_state": template})
    checkpoints.close()
    chex.assert_trees_all_equal(restored["training_state"].prior, state.prior)
