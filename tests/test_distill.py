"""Distillation (DAgger) in the PPO iteration: the teacher's labels through the record hook,
behaviour cloning alone or beside PPO (PhysHMR's kin_weight). On the toy env: seconds."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from toy_env import ToyEnv, toy_config

from physhmr_jax.agents import losses, ppo
from physhmr_jax.agents import metric_names as names

BC_ONLY = 2 * losses.BC_ONLY_KIN_WEIGHT


def _expert(env_data, state):
    """A fixed teacher on the toy task: push towards the origin."""
    del env_data
    return jnp.tanh(-2.0 * state.obs)


def _run(env, config, teacher, iterations, seed=0):
    algorithm = ppo.make_algorithm(env, config, teacher=teacher)
    iteration = jax.jit(algorithm.iteration)
    training_state = algorithm.init(jax.random.PRNGKey(seed))
    env_state = algorithm.reset(jax.random.PRNGKey(seed + 1), None)
    history = []
    for i in range(iterations):
        training_state, env_state, metrics = iteration(training_state, env_state, None, jax.random.PRNGKey(100 + i))
        history.append(jax.tree.map(float, metrics))
    return training_state, history


def test_a_frozen_copy_of_the_student_as_teacher_gives_zero_loss():
    """Teacher = the student's initial policy: the labels equal its mean actions, the
    distillation loss and the policy's gradient are 0."""
    env = ToyEnv()
    config = toy_config(num_seeds=1, kin_weight=BC_ONLY)
    start = ppo.make_algorithm(env, config, teacher=_expert).init(jax.random.PRNGKey(0))
    networks = ppo.make_networks(env, config)

    def frozen_copy(env_data, state):
        return networks.policy(start.params, start.normalizer_params, state.obs)[0]

    _, history = _run(env, config, frozen_copy, 1)
    # Zero up to float rounding (the copy is evaluated on [B] in the rollout, on [T * B] here).
    assert history[0][names.TEACHER_ACTION_MSE] < 1e-12
    # The loss itself, on one batch labelled by the student's own mean: exactly zero, and so
    # is every gradient of the policy in behaviour-cloning mode.
    obs = jax.random.normal(jax.random.PRNGKey(3), (64, env.observation_size))
    mean, _ = networks.policy(start.params, start.normalizer_params, obs)
    zeros = jnp.zeros(64)
    batch = losses.PPOBatch(obs, mean, zeros, zeros, jnp.linspace(-1, 1, 64), zeros, jnp.ones(64), teacher_action=mean)
    grads, metrics = jax.grad(losses.ppo_loss, has_aux=True)(
        start.params, start.normalizer_params, batch, networks=networks, clip_eps=0.2, value_coef=5.0,
        entropy_coef=0.0, bounds_coef=10.0, kin_weight=BC_ONLY,
    )  # fmt: skip
    assert float(metrics["distill_loss"]) == 0.0
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree.leaves(grads["policy"]))
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree.leaves(grads["value"]))  # no PPO term at all


def test_behaviour_cloning_halves_the_action_error():
    env = ToyEnv()
    _, history = _run(env, toy_config(num_seeds=1, kin_weight=BC_ONLY, learning_rate=1e-2), _expert, 15)
    errors = [m[names.TEACHER_ACTION_MSE] for m in history]
    assert errors[-1] < 0.5 * errors[0], errors


def test_behaviour_cloning_ignores_the_reward_and_mixed_mode_does_not():
    """BC only: the policy learns from the teacher alone, so another reward leaves it bitwise
    the same; with kin_weight 0.1 the PPO term is back and the policies part."""

    class ScaledReward(ToyEnv):
        def step(self, state, action, motion_lib):
            next_state = super().step(state, action, motion_lib)
            return next_state.replace(reward=10.0 * next_state.reward - 3.0)

    bc = toy_config(num_seeds=1, kin_weight=BC_ONLY)
    a, _ = _run(ToyEnv(), bc, _expert, 3)
    b, _ = _run(ScaledReward(), bc, _expert, 3)
    chex.assert_trees_all_equal(a.params["policy"], b.params["policy"])
    mixed = toy_config(num_seeds=1, kin_weight=0.1)
    c, history = _run(ToyEnv(), mixed, _expert, 3)
    d, _ = _run(ScaledReward(), mixed, _expert, 3)
    diff = jax.tree.map(lambda x, y: float(jnp.abs(x - y).max()), c.params["policy"], d.params["policy"])
    assert max(jax.tree.leaves(diff)) > 1e-4
    assert np.isfinite(history[-1][names.sgd_metric("distill_loss")])


def test_kin_weight_needs_a_teacher():
    with pytest.raises(ValueError, match="kin_weight"):
        ppo.make_algorithm(ToyEnv(), toy_config(kin_weight=0.1))


def test_policy_coef_zero_trains_the_critic_alone():
    """A critic warm-up (ppo.policy_coef = 0, the fine-tuning stage's settings otherwise): the
    policy's weights stay bitwise the ones it started from while the critic's move; with the
    default 1 both move. A negative weight is one line naming the key."""
    env = ToyEnv()
    frozen = toy_config(num_seeds=1, kin_weight=0.1, policy_coef=0.0)
    start = ppo.make_algorithm(env, frozen, teacher=_expert).init(jax.random.PRNGKey(0))
    end, history = _run(env, frozen, _expert, 3)
    chex.assert_trees_all_equal(end.params["policy"], start.params["policy"])
    moved = jax.tree.map(lambda x, y: float(jnp.abs(x - y).max()), end.params["value"], start.params["value"])
    assert max(jax.tree.leaves(moved)) > 1e-3
    assert history[-1][names.sgd_metric("value_loss")] < history[0][names.sgd_metric("value_loss")]
    both, _ = _run(env, toy_config(num_seeds=1, kin_weight=0.1), _expert, 3)
    moved = jax.tree.map(lambda x, y: float(jnp.abs(x - y).max()), both.params["policy"], start.params["policy"])
    assert max(jax.tree.leaves(moved)) > 1e-3
    with pytest.raises(ValueError, match="ppo.policy_coef"):
        ppo.make_algorithm(env, toy_config(policy_coef=-1.0), teacher=_expert)
