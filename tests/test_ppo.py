"""PPO trainer: GAE and loss by hand, the seeds-by-vmap loop, learning against the random
policy and the NaN guard on a toy env; on the MJX humanoid (``make test-full``) a short run
that must beat the random policy, 4 devices against 1, and a resumed run against a straight
one (``make test`` resumes the toy env after a SIGKILL: tests/test_crash_safety.py).

The humanoid step (:class:`physhmr_jax.agents.runner.Trainer`, the program ``physhmr train
expert`` runs) is compiled once for the module (``humanoid_run`` fixture, about 175 s of MJX
compilation and training on a busy 2-core CPU) and reused by every humanoid test; the
4-device subprocess compiles its own (about 2 min); the toy env compiles in seconds.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from distributed_check import humanoid_case, make_trainer
from toy_env import ToyEnv, toy_config

from physhmr_jax.agents import acting, losses, networks, ppo, runner, sharding
from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents.run_dir import Checkpoints

# ------------------------------------------------------------------------------------
# GAE.


def _gae_python(rewards, values, terminated, truncated, truncation_values, last_value, discount, gae_lambda):
    """The textbook recursion, one environment and one step at a time."""
    num_steps, batch = rewards.shape
    advantages = np.zeros((num_steps, batch))
    for b in range(batch):
        next_advantage = 0.0
        for t in reversed(range(num_steps)):
            if terminated[t, b]:
                next_value, carry_on = 0.0, False
            elif truncated[t, b]:
                next_value, carry_on = truncation_values[t, b], False
            else:
                next_value = values[t + 1, b] if t + 1 < num_steps else last_value[b]
                carry_on = True
            delta = rewards[t, b] + discount * next_value - values[t, b]
            advantages[t, b] = delta + (discount * gae_lambda * next_advantage if carry_on else 0.0)
            next_advantage = advantages[t, b]
    return advantages, advantages + values


def test_gae_by_hand_and_against_python_loop():
    # gamma = lambda = 0.5, T = 3, B = 2.
    # Env 0: r = [1, 1, 1], V = [1, 2, 3], terminated at t = 1, V(s_3) = 4.
    #   t=2: delta = 1 + 0.5*4 - 3 = 0                      A = 0
    #   t=1: terminated: delta = 1 - 2 = -1, chain cut      A = -1
    #   t=0: delta = 1 + 0.5*2 - 1 = 1                      A = 1 + 0.25*(-1) = 0.75
    # Env 1: r = [0, 2, 0], V = [1, 1, 1], truncated at t = 0 with V(final_obs) = 6, V(s_3) = 2.
    #   t=2: delta = 0 + 0.5*2 - 1 = 0                      A = 0
    #   t=1: delta = 2 + 0.5*1 - 1 = 1.5                    A = 1.5 + 0.25*0 = 1.5
    #   t=0: truncated: delta = 0 + 0.5*6 - 1 = 2, cut      A = 2
    # Targets = A + V: env 0 [1.75, 1, 3], env 1 [3, 2.5, 1].
    rewards = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 0.0]])
    values = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    terminated = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    truncated = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    truncation_values = np.array([[99.0, 6.0], [99.0, 99.0], [99.0, 99.0]])  # 99: unused
    last_value = np.array([4.0, 2.0])
    args = (rewards, values, terminated, truncated, truncation_values, last_value)
    advantages, targets = losses.compute_advantages(*map(jnp.asarray, args), discount=0.5, gae_lambda=0.5)
    np.testing.assert_allclose(advantages, [[0.75, 2.0], [-1.0, 1.5], [0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(targets, [[1.75, 3.0], [1.0, 2.5], [3.0, 1.0]], atol=1e-6)

    # A random [16, 5] case with many episode ends, PHC's gamma and lambda.
    rng = np.random.default_rng(0)
    shape = (16, 5)
    ends = rng.random(shape)
    args = (
        rng.normal(size=shape),
        rng.normal(size=shape),
        (ends < 0.15).astype(float),
        ((ends >= 0.15) & (ends < 0.3)).astype(float),
        rng.normal(size=shape),
        rng.normal(size=shape[1]),
    )
    expected_adv, expected_targets = _gae_python(*args, discount=0.99, gae_lambda=0.95)
    advantages, targets = jax.jit(losses.compute_advantages, static_argnames=("discount", "gae_lambda"))(
        *(jnp.asarray(a, jnp.float32) for a in args), discount=0.99, gae_lambda=0.95
    )
    np.testing.assert_allclose(advantages, expected_adv, atol=1e-5)
    np.testing.assert_allclose(targets, expected_targets, atol=1e-5)


# ------------------------------------------------------------------------------------
# Loss.


def _tiny_loss_setup(num=4):
    nets = networks.make_ppo_networks(3, 2, policy_hidden=(8,), value_hidden=(8,))
    params = nets.init(jax.random.PRNGKey(0))
    normalizer = networks.init_normalizer(3)  # identity before any data
    obs = jax.random.normal(jax.random.PRNGKey(1), (num, 3))
    mean, log_std = nets.policy(params, normalizer, obs)
    action = mean + jnp.exp(log_std) * jax.random.normal(jax.random.PRNGKey(2), mean.shape)
    log_prob = networks.gaussian_log_prob(action, mean, log_std)
    value = nets.value(params, normalizer, obs)
    return nets, params, normalizer, obs, action, log_prob, value


def test_ppo_loss_by_hand():
    nets, params, normalizer, obs, action, log_prob, value = _tiny_loss_setup()
    kwargs = dict(networks=nets, clip_eps=0.2, value_coef=1.0, entropy_coef=0.0, normalize_advantages=False)

    # Behaviour policy == current policy: ratio 1, so the surrogate is -mean(A):
    # A = [1, 2, 3, -2] -> -(4 / 4) = -1. Targets V + [1, 1, -1, -1]: value loss 0.5 * 1 = 0.5.
    # Entropy of 2 dims with log sigma = -2.9: 2 * (-2.9 + 0.5 * (1 + log 2 pi)) = -2.962123.
    batch = losses.PPOBatch(
        obs=obs,
        action=action,
        log_prob=log_prob,
        value=value,
        advantage=jnp.array([1.0, 2.0, 3.0, -2.0]),
        target=value + jnp.array([1.0, 1.0, -1.0, -1.0]),
        mask=jnp.ones(4),
    )
    loss, metrics = losses.ppo_loss(params, normalizer, batch, **kwargs)
    np.testing.assert_allclose(metrics["ratio"], 1.0, atol=1e-6)
    np.testing.assert_allclose(metrics["policy_loss"], -1.0, atol=1e-6)
    np.testing.assert_allclose(metrics["value_loss"], 0.5, atol=1e-5)
    np.testing.assert_allclose(metrics["entropy"], -2.962123, atol=1e-5)
    np.testing.assert_allclose(loss, -1.0 + 0.5, atol=1e-5)
    assert float(metrics["clip_fraction"]) == 0.0 and abs(float(metrics["approx_kl"])) < 1e-6

    # Normalised advantages have mean 0, so the ratio-1 surrogate vanishes.
    _, metrics = losses.ppo_loss(params, normalizer, batch, **{**kwargs, "normalize_advantages": True})
    np.testing.assert_allclose(metrics["policy_loss"], 0.0, atol=1e-6)

    # Ratio 1.5 (old log-prob lower by log 1.5), A = [1, -1, 1, -1], clip 0.2:
    #   A = +1: min(1.5 * 1, 1.2 * 1) = 1.2   (clipped: no gradient)
    #   A = -1: min(-1.5, -1.2) = -1.5        (unclipped: pessimistic side)
    # policy loss = -mean([1.2, -1.5, 1.2, -1.5]) = 0.15; every ratio is outside the clip range.
    clipped = batch._replace(log_prob=log_prob - jnp.log(1.5), advantage=jnp.array([1.0, -1.0, 1.0, -1.0]))
    _, metrics = losses.ppo_loss(params, normalizer, clipped, **kwargs)
    np.testing.assert_allclose(metrics["ratio"], 1.5, rtol=1e-5)
    np.testing.assert_allclose(metrics["policy_loss"], 0.15, atol=1e-5)
    assert float(metrics["clip_fraction"]) == 1.0

    # Only the clipped (A = +1) entries: the policy gets no gradient at all.
    only_clipped = clipped._replace(mask=jnp.array([1.0, 0.0, 1.0, 0.0]))
    grads, _ = jax.grad(losses.ppo_loss, has_aux=True)(params, normalizer, only_clipped, **kwargs)
    assert max(float(jnp.abs(g).max()) for g in jax.tree.leaves(grads["policy"])) == 0.0
    grads, _ = jax.grad(losses.ppo_loss, has_aux=True)(params, normalizer, clipped, **kwargs)
    assert max(float(jnp.abs(g).max()) for g in jax.tree.leaves(grads["policy"])) > 0.0

    # A masked-out entry changes nothing, however wild.
    wild = jax.tree.map(lambda x: jnp.concatenate([x, x[:1]]), batch)
    wild = wild._replace(advantage=wild.advantage.at[-1].set(1e6), mask=wild.mask.at[-1].set(0.0))
    loss_wild, _ = losses.ppo_loss(params, normalizer, wild, **kwargs)
    np.testing.assert_allclose(loss_wild, loss, atol=1e-6)

    # Value clipping: V moved 1 from the behaviour value; clipped at 0.1 it is still 0.9
    # off a target 1 away -> max(0^2, 0.9^2) = 0.81 -> value loss 0.5 * 0.81 = 0.405.
    moved = batch._replace(value=value - 1.0, target=value - 1.0 + 1.0)
    _, metrics = losses.ppo_loss(params, normalizer, moved, **{**kwargs, "value_clip_eps": 0.1})
    np.testing.assert_allclose(metrics["value_loss"], 0.405, atol=1e-5)


def test_presets_and_networks():
    smoke, cpu, gpu = (ppo.get_config(name) for name in ("smoke", "cpu", "gpu"))
    assert ppo.num_minibatches(smoke) == 2 and tuple(smoke.policy_hidden) == (64, 64)
    assert ppo.num_minibatches(cpu) == 4 and cpu.num_envs == 256
    assert ppo.num_minibatches(gpu) == 8 and tuple(gpu.policy_hidden) == (2048, 1536, 1024, 1024, 512, 512)
    assert (gpu.learning_rate, gpu.horizon, gpu.num_epochs, gpu.clip_eps) == (2e-5, 32, 6, 0.2)
    assert (gpu.discount, gpu.gae_lambda, gpu.log_std_init, gpu.learn_std) == (0.99, 0.95, -2.9, False)
    with pytest.raises(ValueError, match="minibatches"):
        ppo.get_config("smoke", minibatch_size=48)
    with pytest.raises(ValueError, match="unknown PPO preset"):
        ppo.get_config("tpu-pod-of-dreams")

    # Fixed std is not a parameter; a learned one is, and starts at log_std_init.
    fixed = networks.make_ppo_networks(5, 3, policy_hidden=(4,), value_hidden=(4,))
    learned = networks.make_ppo_networks(5, 3, policy_hidden=(4,), value_hidden=(4,), learn_std=True)
    p_fixed, p_learned = fixed.init(jax.random.PRNGKey(0)), learned.init(jax.random.PRNGKey(0))
    assert "log_std" not in p_fixed["policy"]["params"]
    np.testing.assert_allclose(p_learned["policy"]["params"]["log_std"], -2.9)
    mean, log_std = fixed.policy(p_fixed, networks.init_normalizer(5), jnp.ones((7, 5)))
    chex.assert_shape([mean, log_std], (7, 3))
    chex.assert_shape(fixed.value(p_fixed, networks.init_normalizer(5), jnp.ones((7, 5))), (7,))


def test_kl_adaptive_learning_rate_by_hand():
    # kl_target 0.02: KL above 0.04 divides the rate by 1.5, below 0.01 multiplies it by 1.5,
    # in between leaves it; the result stays within [1e-6, 1e-2].
    config = ppo.get_config("smoke", learning_rate_schedule="kl_adaptive", kl_target=0.02)
    cases = [(1e-3, 0.5, 1e-3 / 1.5), (1e-3, 0.041, 1e-3 / 1.5), (1e-3, 0.04, 1e-3), (1e-3, 0.02, 1e-3),
             (1e-3, 0.01, 1e-3), (1e-3, 0.009, 1.5e-3), (9e-3, 0.0, 1e-2), (1.2e-6, 1.0, 1e-6)]  # fmt: skip
    for rate, kl, expected in cases:
        got = float(ppo.adapt_learning_rate(jnp.float32(rate), jnp.float32(kl), config))
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=f"rate {rate}, kl {kl}")
    fixed = ppo.get_config("smoke")
    assert float(ppo.adapt_learning_rate(jnp.float32(1e-3), jnp.float32(5.0), fixed)) == np.float32(1e-3)
    with pytest.raises(ValueError, match="learning_rate_schedule"):
        ppo.make_algorithm(ToyEnv(), ppo.get_config("smoke", learning_rate_schedule="cosine"))


# ------------------------------------------------------------------------------------
# A toy env with the ImitationEnv contract: compiles in seconds.


def _toy_reward(env, training_state, env_state, key, *, deterministic):
    """Mean reward per step of 32 steps of ``training_state``'s policy (the one rollout)."""
    config = toy_config()
    nets = ppo.make_networks(env, config)
    policy = acting.make_policy(
        nets, training_state.params, training_state.normalizer_params, deterministic=deterministic
    )
    _, transitions = acting.rollout(acting.batched_step(env, None), policy, env_state, key, 32)
    return float(transitions.reward.mean())


def test_driver_trains_vmapped_seeds_on_toy_task():
    # Wider exploration than PHC's sigma = 0.055 makes the toy learn in a few iterations.
    env, config = ToyEnv(), toy_config(log_std_init=-1.0, learning_rate=1e-2)
    algorithm = ppo.make_algorithm(env, config)
    trainer = runner.Trainer(algorithm, num_seeds=config.num_seeds)
    num_iterations = 40
    state = trainer.init(jax.random.PRNGKey(0), None)
    history = []
    for _ in range(num_iterations):
        state, metrics = trainer.step(state, None)
        history.append(sharding.to_host(metrics))
    metrics = {k: np.stack([m[k] for m in history], axis=1) for k in history[0]}
    training_state = sharding.to_host(state.training_state)
    chex.assert_shape(metrics[names.REWARD_MEAN], (2, num_iterations))
    chex.assert_shape(training_state.env_steps, (2,))
    np.testing.assert_allclose(training_state.env_steps, 16 * 16 * num_iterations)
    np.testing.assert_array_equal(training_state.iteration, [num_iterations, num_iterations])
    for name, value in metrics.items():
        assert np.isfinite(value).all(), name
    # The two seeds are different runs.
    first_kernels = [leaf for leaf in jax.tree.leaves(training_state.params["policy"]) if leaf.ndim == 3][0]
    assert not np.allclose(first_kernels[0], first_kernels[1])
    reward = metrics[names.REWARD_MEAN]
    print(f"\ntoy reward, first 5 / last 5 iterations: {reward[:, :5].mean(-1)} / {reward[:, -5:].mean(-1)}")
    # Measured: first 5 iterations 0.58 and 0.62, last 5 0.89 for both seeds.
    assert np.all(reward[:, -5:].mean(-1) > 0.8), reward
    assert trainer._compiled["step"]._cache_size() == 1

    # Deterministic evaluation of seed 0 against the zero-mean (random) policy.
    seed0 = runner.unreplicate_seed(training_state, 0)
    env_state = algorithm.reset(jax.random.PRNGKey(5), None)
    trained = _toy_reward(env, seed0, env_state, jax.random.PRNGKey(6), deterministic=True)
    random = _toy_reward(env, ppo.zero_mean_policy(seed0), env_state, jax.random.PRNGKey(6), deterministic=False)
    # Measured: deterministic trained policy 0.94 per step, random policy 0.23.
    print(f"toy evaluation: trained {trained:.3f}, random {random:.3f}")
    assert trained > random + 0.2, (trained, random)

    # A fresh start from seed 0's weights (runner.start_every_seed_from: `train student
    # --init`): every seed holds them, the optimiser and counters are a fresh start's, the
    # compiled step is reused, and the first iteration already earns a trained reward.
    fresh = trainer.init(jax.random.PRNGKey(1), None)
    fresh_host = sharding.to_host(fresh.training_state)
    started = runner.start_every_seed_from(fresh, seed0.params, seed0.normalizer_params)
    for s in range(2):
        chex.assert_trees_all_equal(runner.unreplicate_seed(sharding.to_host(started.training_state), s).params,
                                    jax.tree.map(np.asarray, seed0.params))  # fmt: skip
    chex.assert_trees_all_equal(sharding.to_host(started.training_state.opt_state), fresh_host.opt_state)
    np.testing.assert_array_equal(sharding.to_host(started.training_state.iteration), [0, 0])
    _, first = trainer.step(started, None)
    assert trainer._compiled["step"]._cache_size() == 1
    first_reward = sharding.to_host(first)[names.REWARD_MEAN]
    print(f"first iteration from seed 0's weights: reward {first_reward} (fresh start: {reward[:, 0]})")
    assert np.all(first_reward > reward[:, 0].max() + 0.1), (first_reward, reward[:, 0])


def test_nonfinite_transitions_are_masked_and_counted():
    env = ToyEnv(nan_on_step=3)
    config = toy_config(num_seeds=1)
    algorithm = ppo.make_algorithm(env, config)
    iteration = jax.jit(algorithm.iteration)
    training_state = algorithm.init(jax.random.PRNGKey(0))
    env_state = algorithm.reset(jax.random.PRNGKey(1), None)
    nonfinite, dropped = 0.0, 0.0
    for i in range(3):
        training_state, env_state, metrics = iteration(training_state, env_state, None, jax.random.PRNGKey(10 + i))
        nonfinite += float(metrics[names.NONFINITE_TRANSITIONS])
        dropped += float(metrics[names.DROPPED_ENVS])
        for name, value in metrics.items():
            assert np.isfinite(float(value)), name
    # About half of the episodes start at x > 0 and every episode reaches step 3.
    assert nonfinite > 10, nonfinite
    assert 0 < dropped < 3 * 16, dropped
    for leaf in jax.tree.leaves((training_state.params, training_state.normalizer_params)):
        assert np.isfinite(np.asarray(leaf)).all()
    # The normaliser saw only the environments with no non-finite transition: 3 iterations
    # of 16 envs x 16 steps, less 16 steps per dropped environment.
    assert int(training_state.normalizer_params.count.lo) == 3 * 16 * 16 - 16 * int(dropped)


def test_kl_adaptive_rate_moves_inside_the_iteration():
    """The adapted rate lives in the optimiser state: it changes with no recompilation."""
    env = ToyEnv()
    config = toy_config(num_seeds=1, learning_rate_schedule="kl_adaptive", kl_target=1e-6, learning_rate=1e-3)
    algorithm = ppo.make_algorithm(env, config)
    iteration = jax.jit(algorithm.iteration)
    training_state = algorithm.init(jax.random.PRNGKey(0))
    env_state = algorithm.reset(jax.random.PRNGKey(1), None)
    training_state, env_state, metrics = iteration(training_state, env_state, None, jax.random.PRNGKey(2))
    # 4 epochs x 4 minibatches = 16 steps. The first one's policy is the behaviour policy
    # itself (KL 0 < 0.5e-6: the rate grows x1.5, as rl_games' schedule does at the start of
    # every iteration); each of the other 15 exceeds the 1e-6 target: 1e-3 * 1.5 / 1.5^15.
    np.testing.assert_allclose(ppo.learning_rate(training_state.opt_state), 1e-3 * 1.5 / 1.5**15, rtol=1e-5)
    assert float(metrics[names.sgd_metric("learning_rate")]) < 1e-3
    training_state, _, _ = iteration(training_state, env_state, None, jax.random.PRNGKey(3))
    assert iteration._cache_size() == 1


def test_linear_rate_follows_env_steps_inside_the_iteration():
    """Each iteration trains at the rate of the env steps before it, then holds the final."""
    env = ToyEnv()
    config = toy_config(
        num_seeds=1, learning_rate_schedule="linear", learning_rate=1e-3, learning_rate_final=1e-4,
        learning_rate_decay_env_steps=2 * 16 * 16,  # two iterations of 16 envs x 16 steps
    )  # fmt: skip
    np.testing.assert_allclose(ppo.scheduled_learning_rate(jnp.float32(256.0), config), 5.5e-4, rtol=1e-6)
    algorithm = ppo.make_algorithm(env, config)
    iteration = jax.jit(algorithm.iteration)
    training_state = algorithm.init(jax.random.PRNGKey(0))
    env_state = algorithm.reset(jax.random.PRNGKey(1), None)
    used = []
    for i in range(4):
        training_state, env_state, metrics = iteration(training_state, env_state, None, jax.random.PRNGKey(2 + i))
        used.append(float(metrics[names.sgd_metric("learning_rate")]))
    np.testing.assert_allclose(used, [1e-3, 5.5e-4, 1e-4, 1e-4], rtol=1e-5)
    assert iteration._cache_size() == 1
    with pytest.raises(ValueError, match="learning_rate_decay_env_steps"):
        ppo.make_algorithm(env, toy_config(learning_rate_schedule="linear", learning_rate_decay_env_steps=0))


def test_linear_log_std_follows_env_steps_and_no_gradient_moves_it():
    """Each iteration samples and learns at the log std of the env steps before it; the
    optimiser leaves it where the schedule put it, and the loss's std matches the rollout's."""
    env = ToyEnv()
    config = toy_config(
        num_seeds=1, log_std_schedule="linear", log_std_init=-1.0, log_std_final=-2.0,
        log_std_decay_env_steps=2 * 16 * 16,  # two iterations of 16 envs x 16 steps
    )  # fmt: skip
    np.testing.assert_allclose(ppo.scheduled_log_std(jnp.float32(256.0), config), -1.5, rtol=1e-6)
    algorithm = ppo.make_algorithm(env, config)
    iteration = jax.jit(algorithm.iteration)
    training_state = algorithm.init(jax.random.PRNGKey(0))
    np.testing.assert_array_equal(training_state.params["policy"]["params"]["log_std"], -1.0)
    env_state = algorithm.reset(jax.random.PRNGKey(1), None)
    used = []
    for i in range(4):
        before = training_state.params["policy"]["params"]["MLP_0"]
        training_state, env_state, metrics = iteration(training_state, env_state, None, jax.random.PRNGKey(2 + i))
        log_std = training_state.params["policy"]["params"]["log_std"]
        assert np.unique(np.asarray(log_std)).size == 1  # one value on every dimension
        used.append(float(log_std[0]))
        # The mean head did learn; the std is the schedule's value, bitwise.
        after = training_state.params["policy"]["params"]["MLP_0"]
        assert (
            max(
                float(jnp.max(jnp.abs(a - b)))
                for a, b in zip(jax.tree.leaves(after), jax.tree.leaves(before), strict=True)
            )
            > 0
        )
    np.testing.assert_array_equal(used, np.float32([-1.0, -1.5, -2.0, -2.0]))
    # The loss's entropy is the Gaussian's at the scheduled std: sum over A of log std + 0.5 (1 + log 2 pi).
    entropy = float(metrics[names.sgd_metric("entropy")])
    np.testing.assert_allclose(entropy, env.action_size * (-2.0 + 0.5 * (1.0 + np.log(2 * np.pi))), rtol=1e-5)
    assert iteration._cache_size() == 1
    with pytest.raises(ValueError, match="learn_std"):
        ppo.make_algorithm(env, toy_config(log_std_schedule="linear", learn_std=True))
    with pytest.raises(ValueError, match="log_std_schedule"):
        ppo.make_algorithm(env, toy_config(log_std_schedule="cosine"))


# ------------------------------------------------------------------------------------
# The MJX humanoid.

TRAIN_ITERATIONS = 100
BASELINE_ITERATIONS = 20  # the last 20 trained iterations are compared with these
OPTIMISED = {"xla_backend_optimization_level": 2}


def test_policy_average_is_the_decayed_mean_of_the_iterations_and_leaves_training_alone():
    """With ``policy_average_decay`` d the kept average after iteration k is
    d * average_{k-1} + (1 - d) * policy_k, starting at the initial policy; training itself
    (every parameter) is bitwise the run without it; evaluations play the average."""
    env, decay = ToyEnv(), 0.75
    runs = {}
    for d in (0.0, decay):
        algorithm = ppo.make_algorithm(env, toy_config(num_seeds=1, policy_average_decay=d))
        iteration = jax.jit(algorithm.iteration)
        training_state = algorithm.init(jax.random.PRNGKey(0))
        env_state = algorithm.reset(jax.random.PRNGKey(1), None)
        policies = [training_state.params["policy"]]
        for i in range(3):
            training_state, env_state, _ = iteration(training_state, env_state, None, jax.random.PRNGKey(2 + i))
            policies.append(training_state.params["policy"])
        runs[d] = training_state, policies
    plain, _ = runs[0.0]
    averaged, policies = runs[decay]
    assert plain.policy_average is None
    chex.assert_trees_all_equal(averaged.params, plain.params)  # the average never feeds back
    expected = policies[0]
    for policy in policies[1:]:
        expected = jax.tree.map(lambda a, p: decay * a + (1 - decay) * p, expected, policy)
    chex.assert_trees_all_close(averaged.policy_average, expected, rtol=1e-6, atol=1e-7)
    # The policy a state stands for: the average where kept, else the current weights.
    chex.assert_trees_all_equal(ppo.policy_params(averaged).params["policy"], averaged.policy_average)
    chex.assert_trees_all_equal(ppo.current_policy_params(averaged).params["policy"], averaged.params["policy"])
    chex.assert_trees_all_equal(ppo.policy_params(plain).params["policy"], plain.params["policy"])
    assert not np.allclose(jax.tree.leaves(averaged.policy_average)[-1], jax.tree.leaves(averaged.params["policy"])[-1])
    # The random baseline zeroes the policy evaluations play, the average included.
    zeroed = networks.zero_mean_policy(averaged)
    chex.assert_trees_all_equal(zeroed.policy_average, zeroed.params["policy"])
    # A run started from another's weights starts its average there.
    trainer = runner.Trainer(ppo.make_algorithm(env, toy_config(num_seeds=2, policy_average_decay=decay)), num_seeds=2)
    loop_state = trainer.init(jax.random.PRNGKey(3), None)
    started = runner.start_every_seed_from(loop_state, averaged.params, averaged.normalizer_params)
    for seed in range(2):
        chex.assert_trees_all_equal(
            runner.unreplicate_seed(started.training_state, seed).policy_average, averaged.params["policy"]
        )
    with pytest.raises(ValueError, match="policy_average_decay"):
        ppo.make_algorithm(env, toy_config(policy_average_decay=1.0))


def _pool(metrics_list):
    """Mean reward, termination rate and episode length over several rollouts."""
    episodes = sum(float(m[names.EPISODES]) for m in metrics_list)
    total_length = sum(float(m[names.EPISODE_LENGTH]) * float(m[names.EPISODES]) for m in metrics_list)
    return {
        "reward": float(np.mean([float(m[names.REWARD_MEAN]) for m in metrics_list])),
        "termination_rate": float(np.mean([float(m[names.TERMINATION_RATE]) for m in metrics_list])),
        "episode_length": total_length / max(episodes, 1.0),
    }


@pytest.fixture(scope="module")
def humanoid_run():
    """Compile the smoke iteration once (the runner's sharded, seed-vmapped step, 1 seed on
    this process's device); train from scratch and measure the random policy."""
    env, motion_lib, config = humanoid_case()
    # 120 iterations run here: this one program is compiled with XLA's optimisation passes,
    # which conftest.py turns off for the rest of this compile-bound suite (measured alone on
    # the 2-core CPU: 1.63 s per iteration without them, 0.19 s with; compiled with them in
    # 58 s; the fixture took 298 s before and 144-148 s after in the fresh-clone suite).
    trainer = make_trainer(env, config, compiler_options=OPTIMISED)
    motion_lib = trainer.place_env_data(motion_lib)
    fresh = trainer.init(jax.random.PRNGKey(0), motion_lib)
    copy = lambda tree: jax.tree.map(jnp.copy, tree)  # noqa: E731  (step donates its input)

    # Random policy: zero-mean actions with the policy's noise. Its rollout metrics come
    # from the same compiled step (the update it computes is thrown away).
    random_state = copy(runner.LoopState(ppo.zero_mean_policy(fresh.training_state), fresh.env_state, fresh.key))
    start = time.perf_counter()
    random_state, metrics = trainer.step(random_state, motion_lib)
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - start
    baseline = [metrics]
    for _ in range(BASELINE_ITERATIONS - 1):
        random_state, metrics = trainer.step(random_state, motion_lib)
        baseline.append(metrics)

    history, state = [], fresh
    one_iteration = None
    start = time.perf_counter()
    for i in range(TRAIN_ITERATIONS):
        state, metrics = trainer.step(state, motion_lib)
        if i == 0:
            one_iteration = sharding.to_host(state.training_state.params)
        history.append(metrics)
    jax.block_until_ready(metrics)
    iteration_s = (time.perf_counter() - start) / TRAIN_ITERATIONS
    print(f"\nsmoke iteration: first call (compile + run) {compile_s:.1f} s, then {iteration_s * 1e3:.0f} ms each")
    seed0 = lambda ms: [{k: v[0] for k, v in sharding.to_host(m).items()} for m in ms]  # noqa: E731
    history = seed0(history)
    return {
        "trainer": trainer,
        "motion_lib": motion_lib,
        "training_state": runner.unreplicate_seed(state.training_state, 0),
        "params_after_one_iteration": one_iteration,
        "history": history,
        "random": _pool(seed0(baseline)),
        "trained": _pool(history[-BASELINE_ITERATIONS:]),
    }


@pytest.mark.slow
@pytest.mark.full  # the humanoid_run fixture: ~175 s of MJX compile and training
def test_learning_beats_random_policy(humanoid_run):
    random, trained = humanoid_run["random"], humanoid_run["trained"]
    print(f"random {random}\ntrained {trained}")
    # Measured (smoke preset, 100 iterations = 6400 env steps, last 20 iterations pooled,
    # through the runner's seed-vmapped step):
    #   random:  reward -0.05/step, termination rate 0.47/step, episode length 2.1 steps
    #   trained: reward 0.26/step, termination rate 0.17/step, episode length 5.9 steps
    # (the plain jitted iteration of session 1, other keys: random -0.15, 0.49, 2.0;
    # trained 0.31, 0.21, 4.6).
    # Zero PD targets raise the arms into a T-pose: > 0.25 m off within 2 steps, and the
    # power penalty of swinging them makes the reward negative. The policy learns to hold
    # the arms down near the reference.
    assert trained["reward"] > random["reward"] + 0.25, (trained, random)
    assert trained["termination_rate"] < 0.7 * random["termination_rate"], (trained, random)
    assert trained["episode_length"] > 1.5 * random["episode_length"], (trained, random)
    history = humanoid_run["history"]
    for name in (names.sgd_metric("loss"), names.APPROX_KL, names.REWARD_MEAN):
        assert all(np.isfinite(float(m[name])) for m in history), name
    assert sum(float(m[names.NONFINITE_TRANSITIONS]) for m in history) == 0
    assert float(humanoid_run["training_state"].env_steps) == TRAIN_ITERATIONS * 8 * 8
    assert int(humanoid_run["training_state"].iteration) == TRAIN_ITERATIONS


@pytest.mark.slow
@pytest.mark.full  # the humanoid_run fixture: ~175 s of MJX compile and training
def test_iteration_compiled_once(humanoid_run):
    # One program for 20 + 100 calls of the step (random baseline and training).
    assert humanoid_run["trainer"]._compiled["step"]._cache_size() == 1


@pytest.mark.slow
@pytest.mark.full  # ~140 s of compiling a sharded MJX program; make test checks the toy env's
# 4 devices against 1 (tests/test_multihost.py::test_two_processes_match_four_devices)
def test_four_devices_match_one_device(humanoid_run, tmp_path):
    """One iteration with the 8 envs split over 4 forced CPU devices equals 1 device.

    Same seed, same global batch; the subprocess (``tests/distributed_check.py``) sets
    ``XLA_FLAGS=--xla_force_host_platform_device_count=4`` before JAX starts. Only the order
    of floating-point sums differs (gradients and observation statistics are all-reduced
    across devices), so the parameters agree to float32 rounding, amplified a little by
    Adam's division by sqrt(v): measured max |diff| 7.7e-6 (relative to the largest
    parameter 2.7e-5) after 4 Adam steps.
    """
    import json
    import os
    import subprocess
    import sys

    from distributed_check import flat_params

    # The same XLA flags as this process (conftest.py's), plus the forced device count.
    env = dict(os.environ)
    script = Path(__file__).with_name("distributed_check.py")
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["devices"] == 4 and result["env_state_shards"] == 4, result
    four = dict(np.load(tmp_path / "params.npz"))
    one = flat_params(humanoid_run["params_after_one_iteration"])
    assert sorted(four) == sorted(one)
    largest = max(float(np.abs(v).max()) for v in one.values())
    worst = max(float(np.abs(one[k] - four[k]).max()) for k in one)
    print(f"\n1 vs 4 devices: max |param diff| {worst:.2e} (largest param {largest:.2f})")
    assert worst <= 1e-4, worst
    first_reward = float(humanoid_run["history"][0][names.REWARD_MEAN])
    np.testing.assert_allclose(result["reward_mean"], first_reward, atol=1e-5)


@pytest.mark.slow
@pytest.mark.full  # the humanoid_run fixture: ~175 s of MJX compile and training
def test_resume_continues_exactly(humanoid_run, tmp_path):
    """2 iterations, a checkpoint on disk (orbax), a restore and 2 more == 4 straight."""
    trainer, motion_lib = humanoid_run["trainer"], humanoid_run["motion_lib"]
    options = dict(progress=False, tensorboard=False, checkpoint_every=2, seed=3)
    straight, straight_rows = runner.run_training(
        trainer, motion_lib, tmp_path / "straight", num_iterations=4, **options
    )
    runner.run_training(trainer, motion_lib, tmp_path / "resumed", num_iterations=2, **options)
    with pytest.raises(FileExistsError):  # a second fresh start into the same run is refused
        runner.run_training(trainer, motion_lib, tmp_path / "resumed", num_iterations=2, **options)
    resumed, rows = runner.run_training(trainer, motion_lib, tmp_path / "resumed", num_iterations=4, resume=True,
                                        **options)  # fmt: skip
    chex.assert_trees_all_equal(sharding.to_host(straight.training_state), sharding.to_host(resumed.training_state))
    chex.assert_trees_all_equal(sharding.to_host(straight.env_state.obs), sharding.to_host(resumed.env_state.obs))
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4]
    for a, b in zip(rows, straight_rows, strict=True):
        assert a[names.REWARD_MEAN] == b[names.REWARD_MEAN] and a[names.ENV_STEPS] == b[names.ENV_STEPS]
    # The restored arrays carry the step's shardings: still a single compiled program.
    assert trainer._compiled["step"]._cache_size() == 1
    assert sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir()) == ["2", "4"]
    # The straight run saved iteration 2 mid-run and then stepped on (donating the saved
    # buffers): its checkpoint equals the one written at the exit of the 2-iteration run.
    abstract = trainer.abstract_state(motion_lib)
    item = {"training_state": abstract.training_state}
    saved = []
    for name in ("straight", "resumed"):
        checkpoints = Checkpoints(tmp_path / name)
        saved.append(sharding.to_host(checkpoints.restore(2, item)[0]["training_state"]))
        checkpoints.close()
    chex.assert_trees_all_equal(*saved)
    assert (tmp_path / "resumed" / "curves.png").stat().st_size > 10_000


def test_value_normalisation_standardises_the_critic_targets():
    """ppo.normalize_values (rl_games' normalize_value, PHC's setting): the statistics absorb
    each rollout's lambda-return targets, computed in return units from de-standardised
    critic values; the critic is fitted to those targets standardised; the advantages do not
    change; and the toy task still learns."""
    env = ToyEnv()
    agent = ppo._make_agent(env, toy_config(num_seeds=1, normalize_values=True))
    state = ppo._init_training_state(agent, jax.random.PRNGKey(0))
    assert int(state.value_normalizer_params.count) == 0
    end, transitions = ppo._collect(agent, state, ppo._reset_envs(agent, jax.random.PRNGKey(1), None), None,
                                    jax.random.PRNGKey(2))  # fmt: skip
    batch, stats = ppo._ppo_batch(agent, state, transitions, end.obs)
    # The same rollout without normalisation (fresh statistics are the identity: mean 0, std 1).
    raw_agent = agent._replace(config=toy_config(num_seeds=1))
    raw, no_stats = ppo._ppo_batch(raw_agent, state.replace(value_normalizer_params=None), transitions, end.obs)
    assert no_stats is None
    targets = np.asarray(raw.target)
    assert int(stats.count) == targets.size == 16 * 16 and targets.std() > 0.1
    np.testing.assert_allclose(stats.mean, [targets.mean()], rtol=1e-5)
    np.testing.assert_allclose(stats.std, [targets.std()], rtol=1e-4)
    np.testing.assert_allclose(batch.target, (targets - targets.mean()) / targets.std(), atol=1e-5)
    np.testing.assert_allclose(batch.value, (np.asarray(raw.value) - targets.mean()) / targets.std(), atol=1e-5)
    np.testing.assert_array_equal(batch.advantage, raw.advantage)
    # After the update the critic is read through the statistics.
    learned, _ = jax.jit(functools.partial(ppo._learn, agent))(state, transitions, end.obs, jax.random.PRNGKey(3))
    raw_value = agent.networks.value(learned.params, learned.normalizer_params, end.obs)
    np.testing.assert_allclose(ppo.critic_values(agent, learned, end.obs),
                               raw_value * float(stats.std[0]) + float(stats.mean[0]), rtol=1e-5, atol=1e-6)  # fmt: skip

    config = toy_config(log_std_init=-1.0, learning_rate=1e-2, normalize_values=True)
    trainer = runner.Trainer(ppo.make_algorithm(env, config), num_seeds=config.num_seeds)
    loop = trainer.init(jax.random.PRNGKey(0), None)
    rewards = []
    for _ in range(40):
        loop, metrics = trainer.step(loop, None)
        rewards.append(sharding.to_host(metrics)[names.REWARD_MEAN])
    rewards = np.stack(rewards, axis=1)
    first, last = rewards[:, :5].mean(-1), rewards[:, -5:].mean(-1)
    print(f"\ntoy reward with normalised values, first 5 / last 5 iterations: {first} / {last}")
    assert np.all(last > 0.8), rewards
