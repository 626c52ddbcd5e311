"""PPO trainer: GAE and loss by hand, the seeds-by-vmap loop and the NaN guard on a toy env,
and a short run on the MJX humanoid that must beat the random policy.

The humanoid iteration is compiled once for the module (``humanoid_run`` fixture, 55-80 s
of MJX compilation on a busy 2-core CPU; the persistent cache in ``conftest.py`` makes reruns
fast) and reused by every humanoid test; the toy env compiles in seconds.
"""

from __future__ import annotations

import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from physhmr_jax.agents import losses, networks, ppo
from physhmr_jax.envs import imitation
from physhmr_jax.humanoid.simulation import make_humanoid
from physhmr_jax.humanoid.skeleton import mean_skeleton, standing_dof
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.library import build_motion_lib
from physhmr_jax.motion.retarget import ground_clip

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


# ------------------------------------------------------------------------------------
# A toy env with the ImitationEnv contract: compiles in seconds.


@struct.dataclass
class _ToyState:
    position: jax.Array  # [2]
    obs: jax.Array
    final_obs: jax.Array
    reward: jax.Array
    done: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    step_count: jax.Array
    key: jax.Array
    metrics: dict


class _ToyEnv:
    """A point on a plane pushed by the action (0.2 m per unit); reward 1 - |position|^2.

    Fails beyond 1.5 m from the origin; episodes are truncated after 16 steps. With
    ``nan_on_step`` the reward of that step of an episode is NaN when it starts from x > 0.
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
        zero = jnp.zeros(())
        metrics = {"episode_steps": zero, "distance_m": jnp.linalg.norm(position)}
        return _ToyState(position, position, position, zero, zero, zero, zero, jnp.zeros((), jnp.int32), key, metrics)

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

        return _ToyState(
            position=pick(fresh.position, position),
            obs=pick(fresh.obs, position),
            final_obs=position,
            reward=reward,
            done=done.astype(jnp.float32),
            terminated=failed.astype(jnp.float32),
            truncated=truncated.astype(jnp.float32),
            step_count=pick(fresh.step_count, step_count),
            key=key,
            metrics={"episode_steps": step_count.astype(jnp.float32), "distance_m": distance},
        )


def _toy_config(**overrides):
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


def test_train_vmapped_seeds_learns_toy_task():
    # Wider exploration than PHC's sigma = 0.055 makes the toy learn in a few iterations.
    env, config = _ToyEnv(), _toy_config(log_std_init=-1.0, learning_rate=1e-2)
    train = ppo.make_train(env, config)
    num_iterations = 40
    training_state, metrics = train(jax.random.PRNGKey(0), None, num_iterations)
    chex.assert_shape(metrics["rollout/reward_mean"], (2, num_iterations))
    chex.assert_shape(training_state.env_steps, (2,))
    np.testing.assert_allclose(training_state.env_steps, 16 * 16 * num_iterations)
    np.testing.assert_array_equal(training_state.iteration, [num_iterations, num_iterations])
    for name, value in metrics.items():
        assert np.isfinite(np.asarray(value)).all(), name
    # The two seeds are different runs.
    first_kernels = [leaf for leaf in jax.tree.leaves(training_state.params["policy"]) if leaf.ndim == 3][0]
    assert not np.allclose(first_kernels[0], first_kernels[1])
    reward = np.asarray(metrics["rollout/reward_mean"])
    print(f"\ntoy reward, first 5 / last 5 iterations: {reward[:, :5].mean(-1)} / {reward[:, -5:].mean(-1)}")
    # Measured: first 5 iterations 0.58 and 0.62, last 5 0.89 for both seeds.
    assert np.all(reward[:, -5:].mean(-1) > 0.8), reward

    # Deterministic evaluation of seed 0 against the zero-mean (random) policy.
    seed0 = jax.tree.map(lambda x: x[0], training_state)
    env_state = ppo.reset_envs(env, config, jax.random.PRNGKey(5), None)
    evaluate = jax.jit(ppo.make_evaluate(env, config, num_steps=32))
    _, trained = evaluate(seed0, env_state, None, jax.random.PRNGKey(6))
    _, random = ppo.evaluate_random_policy(env, config, env_state, None, jax.random.PRNGKey(6), num_steps=32)
    # Measured: deterministic trained policy 0.94 per step, random policy 0.23.
    print(
        f"toy evaluation: trained {float(trained['rollout/reward_mean']):.3f}, random {float(random['rollout/reward_mean']):.3f}"
    )
    assert float(trained["rollout/reward_mean"]) > float(random["rollout/reward_mean"]) + 0.2, (trained, random)


def test_nonfinite_transitions_are_masked_and_counted():
    env = _ToyEnv(nan_on_step=3)
    config = _toy_config(num_seeds=1)
    iteration = jax.jit(ppo.make_train_iteration(env, config))
    training_state = ppo.init_training_state(env, config, jax.random.PRNGKey(0))
    env_state = ppo.reset_envs(env, config, jax.random.PRNGKey(1), None)
    nonfinite = 0.0
    for i in range(3):
        training_state, env_state, metrics = iteration(training_state, env_state, None, jax.random.PRNGKey(10 + i))
        nonfinite += float(metrics["rollout/nonfinite_transitions"])
        for name, value in metrics.items():
            assert np.isfinite(float(value)), name
    # About half of the episodes start at x > 0 and every episode reaches step 3.
    assert nonfinite > 10, nonfinite
    for leaf in jax.tree.leaves((training_state.params, training_state.normalizer_params)):
        assert np.isfinite(np.asarray(leaf)).all()
    # The normaliser saw only the finite transitions: 3 iterations * 256 minus the masked.
    assert int(training_state.normalizer_params.count.lo) == 3 * 16 * 16 - int(nonfinite)


# ------------------------------------------------------------------------------------
# The MJX humanoid.

FPS = 30.0
CLIP_FRAMES = 301  # 10 s
WALK_SPEED_M_S = 0.1
TRAIN_ITERATIONS = 100
BASELINE_ITERATIONS = 20  # the last 20 trained iterations are compared with these


def _standing_clip() -> Clip:
    """The standing pose for 10 s while the root glides forward at 0.1 m/s."""
    t = np.arange(CLIP_FRAMES) / FPS
    root_pos = np.array([0.0, 0.0, 0.9]) + WALK_SPEED_M_S * t[:, None] * np.array([1.0, 0.0, 0.0])
    root_quat = np.tile([1.0, 0.0, 0.0, 0.0], (CLIP_FRAMES, 1))
    dof = np.tile(standing_dof(), (CLIP_FRAMES, 1))
    return ground_clip(Clip("stand_glide", FPS, root_pos, root_quat, dof, mean_skeleton()))


def _pool(metrics_list):
    """Mean reward, termination rate and episode length over several rollouts."""
    episodes = sum(float(m["rollout/episodes"]) for m in metrics_list)
    total_length = sum(float(m["rollout/episode_length_mean"]) * float(m["rollout/episodes"]) for m in metrics_list)
    return {
        "reward": float(np.mean([float(m["rollout/reward_mean"]) for m in metrics_list])),
        "termination_rate": float(np.mean([float(m["rollout/termination_rate"]) for m in metrics_list])),
        "episode_length": total_length / max(episodes, 1.0),
    }


@pytest.fixture(scope="module")
def humanoid_run():
    """Compile the smoke iteration once; train from scratch and measure the random policy."""
    env = imitation.ImitationEnv(make_humanoid())
    motion_lib = build_motion_lib([_standing_clip()])
    config = ppo.get_config("smoke")
    iteration = ppo.make_train_iteration(env, config)

    @chex.assert_max_traces(n=1)
    def traced_iteration(training_state, env_state, motion_lib, key):
        return iteration(training_state, env_state, motion_lib, key)

    jitted = jax.jit(traced_iteration)
    training_state = jax.jit(lambda key: ppo.init_training_state(env, config, key))(jax.random.PRNGKey(0))
    env_state = jax.jit(lambda key, lib: ppo.reset_envs(env, config, key, lib))(jax.random.PRNGKey(1), motion_lib)

    start = time.perf_counter()
    jax.block_until_ready(jitted(training_state, env_state, motion_lib, jax.random.PRNGKey(2)))
    compile_s = time.perf_counter() - start

    # Random policy: zero-mean actions with the policy's noise. Its rollout metrics come
    # from the same compiled iteration (the update it computes is thrown away).
    random_state = ppo.zero_mean_policy(training_state)
    baseline, state = [], env_state
    for i in range(BASELINE_ITERATIONS):
        _, state, metrics = jitted(random_state, state, motion_lib, jax.random.PRNGKey(100 + i))
        baseline.append(metrics)

    history = []
    start = time.perf_counter()
    for i in range(TRAIN_ITERATIONS):
        training_state, env_state, metrics = jitted(training_state, env_state, motion_lib, jax.random.PRNGKey(1000 + i))
        history.append(metrics)
    jax.block_until_ready(metrics)
    iteration_s = (time.perf_counter() - start) / TRAIN_ITERATIONS
    print(f"\nsmoke iteration: first call (compile + run) {compile_s:.1f} s, then {iteration_s * 1e3:.0f} ms each")
    return {
        "jitted": jitted,
        "training_state": training_state,
        "history": history,
        "random": _pool(baseline),
        "trained": _pool(history[-BASELINE_ITERATIONS:]),
    }


def test_learning_beats_random_policy(humanoid_run):
    random, trained = humanoid_run["random"], humanoid_run["trained"]
    print(f"random {random}\ntrained {trained}")
    # Measured (smoke preset, 100 iterations = 6400 env steps, last 20 iterations pooled):
    #   random:  reward -0.15/step, termination rate 0.49/step, episode length 2.0 steps
    #   trained: reward 0.31/step, termination rate 0.21/step, episode length 4.6 steps
    # (with the earlier 1/120 s physics: random -0.28, 0.49, 2.0; trained ~0.2, 0.21, 4.4).
    # Zero PD targets raise the arms into a T-pose: > 0.25 m off within 2 steps, and the
    # power penalty of swinging them makes the reward negative. The policy learns to hold
    # the arms down near the reference.
    assert trained["reward"] > random["reward"] + 0.25, (trained, random)
    assert trained["termination_rate"] < 0.7 * random["termination_rate"], (trained, random)
    assert trained["episode_length"] > 1.5 * random["episode_length"], (trained, random)
    history = humanoid_run["history"]
    for name in ("sgd/loss", "sgd/approx_kl", "rollout/reward_mean"):
        assert all(np.isfinite(float(m[name])) for m in history), name
    assert sum(float(m["rollout/nonfinite_transitions"]) for m in history) == 0
    assert float(humanoid_run["training_state"].env_steps) == TRAIN_ITERATIONS * 8 * 8
    assert int(humanoid_run["training_state"].iteration) == TRAIN_ITERATIONS


def test_iteration_compiled_once(humanoid_run):
    # assert_max_traces(n=1) inside the fixture already raised on any retrace; the jit
    # cache holds a single program for 1 + 20 + 100 calls.
    jitted = humanoid_run["jitted"]
    if hasattr(jitted, "_cache_size"):
        assert jitted._cache_size() == 1
