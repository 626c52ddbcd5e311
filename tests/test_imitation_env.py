"""ImitationEnv: reset at the reference, observation layout, rewards, termination; the
training wrappers around it: auto-reset, time limit, NaN reset.

Every test shares one env, one motion library and one batch size (4), so the jitted
``reset_to`` and ``step`` (plain and wrapped) compile once for the module (the last test
checks it).
"""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nan_rollout_check import check_nan_mid_rollout

from physhmr_jax.envs import imitation, motion_prior, wrappers
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.simulation import make_humanoid
from physhmr_jax.humanoid.skeleton import BODY_INDEX, mean_skeleton, standing_dof
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.library import build_motion_lib
from physhmr_jax.motion.retarget import ground_clip

FPS = 30.0
NUM_FRAMES = 91  # 3 s
SPEED_M_S = 0.1
BATCH = 4
# The library's body velocities are finite differences at 30 fps, MuJoCo's follow from the
# reference dof velocities: measured max |difference| 0.033 (m/s, rad/s) on these clips.
VELOCITY_ATOL = 0.05


def _standing_clip(name: str, yaw_rad: float, origin_xy: tuple[float, float]) -> Clip:
    """Standing pose; the root glides forward at 0.1 m/s; the left arm swings."""
    t = np.arange(NUM_FRAMES) / FPS
    forward = np.array([np.cos(yaw_rad), np.sin(yaw_rad), 0.0])
    root_pos = np.array([*origin_xy, 0.9]) + SPEED_M_S * t[:, None] * forward
    root_quat = np.tile(
        np.asarray(rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.array(yaw_rad))), (NUM_FRAMES, 1)
    )
    dof = np.tile(standing_dof(), (NUM_FRAMES, 1))
    dof[:, 3 * (BODY_INDEX["L_Shoulder"] - 1) + 2] += 0.3 * np.sin(2 * np.pi * t)
    return ground_clip(Clip(name, FPS, root_pos, root_quat, dof, mean_skeleton()))


@pytest.fixture(scope="module")
def env():
    return imitation.ImitationEnv(make_humanoid())


@pytest.fixture(scope="module")
def lib():
    # Clip 1 is clip 0 turned by 1 rad about z and moved: the same motion in another heading.
    return build_motion_lib(
        [_standing_clip("stand", 0.0, (0.0, 0.0)), _standing_clip("stand_turned", 1.0, (2.0, -1.0))]
    )


@pytest.fixture(scope="module")
def batched(env):
    return imitation.make_vmapped(env)


@pytest.fixture(scope="module")
def training(env, batched):
    """The training env (episode wrappers) over a batch: start from plain states, step.

    ``step`` is ``TrainingEnv.step`` taken apart: the plain env's compiled step, then the
    wrapper's ``after_step`` (what ``step`` composes), so that the module compiles the
    physics once (about a minute on this CPU) rather than twice.
    """
    wrapped = wrappers.wrap_for_training(env, episode_length_steps=env.config.episode_length_steps)
    after_step = jax.jit(jax.vmap(wrapped.after_step, in_axes=(0, 0, None)))

    def step(states, actions, lib):
        return after_step(states, batched.step(states.inner, actions, lib), lib)

    return SimpleNamespace(env=wrapped, start=jax.jit(jax.vmap(wrapped.start)), step=step, after_step=after_step)


def _config(**overrides):
    config = imitation.default_config()
    config.update(overrides)
    return config


def _keys(seed=0):
    return jax.random.split(jax.random.PRNGKey(seed), BATCH)


def _reset_to(batched, lib, clip_ids=(0, 1, 0, 1), times=(0.5, 0.5, 0.5, 0.5)):
    return batched.reset_to(_keys(), lib, jnp.asarray(clip_ids, jnp.int32), jnp.asarray(times, jnp.float32))


def _reference_action(env, lib, states):
    """Actions whose PD targets are the reference dof one control step ahead."""
    ref = lib.state_at(states.clip_id, states.time_s + env.dt)
    return env.targets_to_action(ref.dof, ref.dof)


def test_motion_prior_features_match_mujoco_at_the_reference_state(env, lib, batched):
    """AMP's motion-set features are the proprioception of the library's body states; reset
    to a reference state, MuJoCo's proprioception of the simulated humanoid agrees."""
    states = _reset_to(batched, lib)
    simulated = np.asarray(states.obs[:, : imitation.PROPRIOCEPTION_SIZE])
    from_library = np.asarray(motion_prior.reference_proprioception(lib.state_at(states.clip_id, states.time_s)))
    pose = 1 + 23 * 3 + 24 * 6  # root height, body positions, body rotations (6D); then velocities
    np.testing.assert_allclose(from_library[:, :pose], simulated[:, :pose], atol=1e-4)
    velocity_error = np.abs(from_library[:, pose:] - simulated[:, pose:])
    print(f"\nvelocity block |library - MuJoCo|: max {velocity_error.max():.4f}, mean {velocity_error.mean():.5f}")
    np.testing.assert_allclose(from_library[:, pose:], simulated[:, pose:], atol=VELOCITY_ATOL)
    prior = motion_prior.make_motion_prior(env.dt, lambda motion_lib: motion_lib)
    sample = jax.jit(prior.sample, static_argnums=2)(jax.random.PRNGKey(0), lib, 64)
    assert sample.shape == (64, motion_prior.FEATURE_SIZE) == (64, 716)
    assert np.isfinite(np.asarray(sample)).all()
    # The two halves are dt apart: the root height of a glide is unchanged, the arm moves.
    np.testing.assert_allclose(sample[:, 0], sample[:, imitation.PROPRIOCEPTION_SIZE], atol=1e-4)
    assert np.abs(sample[:, :pose] - sample[:, 358 : 358 + pose]).max() > 1e-3


def test_sizes_and_config(env):
    assert env.action_size == 69
    # 358 proprioception + 576 for one future reference frame (PHC's 934).
    assert env.observation_size == 358 + 576 == 934
    assert imitation.PROPRIOCEPTION_SIZE == 358
    # Action scale: per body min(1.2 * max |limit|, pi); the knee (165 deg) saturates at pi,
    # the wrist (max 120 deg) gives 1.2 * 2.0944 = 2.5133.
    scale = env.action_scale.reshape(23, 3)
    np.testing.assert_allclose(scale[BODY_INDEX["L_Knee"] - 1], np.pi)
    np.testing.assert_allclose(scale[BODY_INDEX["L_Wrist"] - 1], 1.2 * np.deg2rad(120), rtol=1e-6)
    with pytest.raises(AttributeError):
        env.config.no_such_setting = 1  # locked config


def test_action_modes_absolute_and_residual(env, lib, batched):
    """Absolute (PHC): target = clip(a, -1, 1) * scale; residual: target = reference dof at
    t + dt (+ target_lead_s x its velocity) + clip(a, -1, 1) * 0.5 * scale; both clipped to
    the joint ranges."""
    low, high = (np.asarray(x) for x in mjcf.joint_ranges_rad().T)
    scale = env.action_scale
    residual = imitation.ImitationEnv(env.humanoid, _config(action_mode="residual"))
    states = _reset_to(batched, lib)
    ref_dof = np.asarray(lib.state_at(states.clip_id, states.time_s + env.dt).dof)
    zero = jnp.zeros((BATCH, env.action_size))
    targets = jax.jit(jax.vmap(residual.targets, in_axes=(0, 0, None)))
    # A zero residual action holds the reference pose of the step's target frame (clipped).
    np.testing.assert_allclose(targets(states, zero, lib), np.clip(ref_dof, low, high), atol=1e-6)
    # Absolute mode, PHC's map: a = 0.5 puts every hinge at half its action scale.
    absolute = jax.jit(jax.vmap(env.targets, in_axes=(0, 0, None)))
    half = jnp.full((BATCH, env.action_size), 0.5)
    np.testing.assert_allclose(absolute(states, half, lib), np.clip(0.5 * scale, low, high)[None].repeat(BATCH, 0),
                               atol=1e-6)  # fmt: skip
    # Actions beyond [-1, 1] are clipped first: a = 3 acts as a = 1.
    np.testing.assert_allclose(
        targets(states, 3.0 * jnp.ones_like(zero), lib), np.clip(ref_dof + 0.5 * scale, low, high), atol=1e-6
    )
    # A velocity lead moves the residual offset along the reference dof velocity.
    led = imitation.ImitationEnv(env.humanoid, _config(action_mode="residual", target_lead_s=0.2))
    ref_vel = np.asarray(lib.state_at(states.clip_id, states.time_s + env.dt).dof_vel)
    assert np.abs(ref_vel).max() > 0.5  # the lead is visible
    led_targets = jax.jit(jax.vmap(led.targets, in_axes=(0, 0, None)))(states, zero, lib)
    np.testing.assert_allclose(led_targets, np.clip(ref_dof + 0.2 * ref_vel, low, high), atol=1e-5)
    # The inverse maps in-range targets back to actions.
    mid = np.clip(ref_dof + 0.1, low, high)
    action = residual.targets_to_action(jnp.asarray(mid), jnp.asarray(ref_dof))
    np.testing.assert_allclose(residual.action_to_targets(action, jnp.asarray(ref_dof)), mid, atol=1e-6)
    with pytest.raises(ValueError, match="action_mode"):
        imitation.ImitationEnv(env.humanoid, _config(action_mode="relative")).action_to_targets(zero[0], zero[0])


def test_reset_is_the_reference_state(env, lib, batched):
    states = batched.reset(_keys(1), lib)
    ref = lib.state_at(states.clip_id, states.time_s)
    np.testing.assert_allclose(states.data.xpos[:, 1:], ref.body_pos, atol=1e-3)
    assert states.obs.shape == (BATCH, env.observation_size)
    assert np.isfinite(np.asarray(states.obs)).all()
    assert np.all(np.asarray(states.terminated) == 0) and np.all(np.asarray(states.truncated) == 0)
    # RSI times lie in [0, duration - dt].
    assert np.all((np.asarray(states.time_s) >= 0) & (np.asarray(states.time_s) <= 3.0 - env.dt + 1e-6))


def test_proprioception_size_and_heading_invariance(env, lib, batched):
    states = _reset_to(batched, lib)
    prop = jax.vmap(imitation.proprioception)(states.data)
    assert prop.shape == (BATCH, 358)
    np.testing.assert_allclose(prop, states.obs[:, :358], atol=1e-6)  # eager vs jit
    # Envs 0 and 1 hold the same motion rotated by 1 rad about z (and moved): the whole
    # observation, proprioception and reference part, must not see the difference.
    assert float(jnp.abs(states.data.xpos[0] - states.data.xpos[1]).max()) > 1.0
    np.testing.assert_allclose(states.obs[0], states.obs[1], atol=1e-4)
    # The state is not trivial: the swinging arm and the gliding root have velocities.
    lin_vel = prop[0, 214:286].reshape(24, 3)
    np.testing.assert_allclose(lin_vel[0], [SPEED_M_S, 0.0, 0.0], atol=1e-3)  # heading frame: forward is +x
    assert float(jnp.abs(prop[0, 286:]).max()) > 0.5  # arm angular velocity 0.3 * 2 pi rad/s


def test_rewards_at_and_near_the_reference(env, lib, batched):
    states = _reset_to(batched, lib)
    ref = lib.state_at(states.clip_id, states.time_s)
    terms = jax.vmap(env.rewards)(states.data, ref)
    # At the reference every error is ~0: exp(0) = 1, so each term equals its scale,
    # 0.5 + 0.3 + 0.1 + 0.1 = 1.0; no actuator force at reset, so power is 0.
    np.testing.assert_allclose(terms["pos"], 0.5, atol=1e-5)
    np.testing.assert_allclose(terms["rot"], 0.3, atol=1e-5)
    np.testing.assert_allclose(terms["vel"], 0.1, atol=1e-4)
    np.testing.assert_allclose(terms["ang_vel"], 0.1, atol=1e-4)
    np.testing.assert_allclose(terms["power"], 0.0)
    # Every body 0.1 m off along x: mean over bodies and xyz of the squared error is
    # 0.01 / 3, so the position term is 0.5 * exp(-100 * 0.01 / 3) = 0.5 * exp(-1/3) = 0.35827.
    shift = jnp.array([0.1, 0.0, 0.0])
    moved = states.data.replace(xpos=states.data.xpos + shift, subtree_com=states.data.subtree_com + shift)
    terms = jax.vmap(env.rewards)(moved, ref)
    np.testing.assert_allclose(terms["pos"], 0.5 * np.exp(-1.0 / 3.0), rtol=1e-4)
    np.testing.assert_allclose(terms["rot"], 0.3, atol=1e-5)
    np.testing.assert_allclose(terms["root_pos"], 0.0)  # off by default (PHC has no such term)
    # The pelvis term when on: scale 0.2 x exp(-20 x 0.1^2) for the pelvis 0.1 m off.
    with_root = imitation.ImitationEnv(env.humanoid, _config(reward_scales={"root_pos": 0.2}))
    np.testing.assert_allclose(jax.vmap(with_root.rewards)(states.data, ref)["root_pos"], 0.2, atol=1e-5)
    np.testing.assert_allclose(jax.vmap(with_root.rewards)(moved, ref)["root_pos"], 0.2 * np.exp(-0.2), rtol=1e-4)


def test_plain_env_reports_termination_and_goes_on(env, lib, batched):
    states = _reset_to(batched, lib)
    # Env 1's root 0.3 m from the reference: every body is > 0.25 m away after one step.
    states = states.replace(data=states.data.replace(qpos=states.data.qpos.at[1, 0].add(0.3)))
    out = batched.step(states, _reference_action(env, lib, states), lib)
    np.testing.assert_array_equal(out.terminated, [0, 1, 0, 0])
    np.testing.assert_array_equal(out.truncated, [0, 0, 0, 0])
    assert float(out.metrics[imitation.BODY_DISTANCE_MAX][1]) > 0.25
    # No reset: every env, the failed one too, is one control step further in its clip.
    np.testing.assert_array_equal(out.clip_id, states.clip_id)
    np.testing.assert_allclose(out.time_s, states.time_s + env.dt, atol=1e-6)
    assert float(jnp.abs(out.data.qpos[1, :2] - states.data.qpos[1, :2]).max()) < 0.05


def test_wrapper_terminates_and_resets(env, lib, batched, training):
    states = _reset_to(batched, lib)
    states = states.replace(data=states.data.replace(qpos=states.data.qpos.at[1, 0].add(0.3)))
    wrapped = training.start(states)
    out = training.step(wrapped, _reference_action(env, lib, states), lib)
    np.testing.assert_array_equal(out.terminated, [0, 1, 0, 0])
    np.testing.assert_array_equal(out.done, [0, 1, 0, 0])
    np.testing.assert_array_equal(out.truncated, [0, 0, 0, 0])
    np.testing.assert_array_equal(out.episode_steps, [1, 1, 1, 1])
    # Auto-reset: the finished env already starts a new episode, the others go on.
    np.testing.assert_array_equal(out.step_count, [1, 0, 1, 1])
    assert np.isfinite(np.asarray(out.obs)).all() and np.isfinite(np.asarray(out.final_obs)).all()
    assert not np.allclose(out.obs[1], out.final_obs[1])
    np.testing.assert_array_equal(out.obs[np.array([0, 2, 3])], out.final_obs[np.array([0, 2, 3])])
    np.testing.assert_array_equal(out.obs, out.inner.obs)
    ref = lib.state_at(out.inner.clip_id, out.inner.time_s)
    np.testing.assert_allclose(out.inner.data.xpos[1, 1:], ref.body_pos[1], atol=1e-3)
    out2 = training.step(out, _reference_action(env, lib, out.inner), lib)
    np.testing.assert_array_equal(out2.step_count, [2, 1, 2, 2])
    # The return of an episode is the sum of its rewards.
    np.testing.assert_allclose(out2.episode_return[0], out.reward[0] + out2.reward[0], rtol=1e-6)


def test_truncation_by_episode_length_and_clip_end(env, lib, batched, training):
    # Env 1 starts half a control step before its clip's last frame (3 s).
    states = _reset_to(batched, lib, times=(0.5, 3.0 - 0.5 * env.dt, 0.5, 0.5))
    plain = batched.step(states, _reference_action(env, lib, states), lib)
    np.testing.assert_array_equal(plain.truncated, [0, 1, 0, 0])  # the env knows only the clip end
    wrapped = training.start(states)
    wrapped = wrapped.replace(step_count=wrapped.step_count.at[0].set(env.config.episode_length_steps - 1))
    out = training.step(wrapped, _reference_action(env, lib, states), lib)
    np.testing.assert_array_equal(out.truncated, [1, 1, 0, 0])
    np.testing.assert_array_equal(out.terminated, [0, 0, 0, 0])
    np.testing.assert_array_equal(out.done, [1, 1, 0, 0])
    np.testing.assert_array_equal(out.episode_steps, [300, 1, 1, 1])


def test_nan_is_caught(env, lib, batched, training):
    states = _reset_to(batched, lib)
    states = states.replace(data=states.data.replace(qpos=states.data.qpos.at[0, 10].set(jnp.nan)))
    out = training.step(training.start(states), jnp.zeros((BATCH, env.action_size)), lib)
    np.testing.assert_array_equal(out.metrics[wrappers.NAN], [1, 0, 0, 0])
    assert float(out.terminated[0]) == 1.0 and float(out.done[0]) == 1.0
    assert float(out.reward[0]) == 0.0
    for name, value in out.metrics.items():
        assert np.isfinite(np.asarray(value)).all(), name
    assert np.isfinite(np.asarray(out.obs)).all() and np.isfinite(np.asarray(out.final_obs)).all()
    assert np.isfinite(np.asarray(out.inner.data.qpos)).all() and int(out.step_count[0]) == 0


class _PoisonAt:
    """The plain env, with NaN written into the physics state (qpos) of any environment
    whose motion time equals ``env_data["poison_time_s"]`` before it steps."""

    def __init__(self, env):
        self.env = env
        self.observation_size, self.action_size = env.observation_size, env.action_size

    def reset(self, key, env_data):
        return self.env.reset(key, env_data["lib"])

    def step(self, state, action, env_data):
        hit = jnp.abs(state.time_s - env_data["poison_time_s"]) < 1e-3
        qpos = jnp.where(hit, jnp.nan, state.data.qpos)
        return self.env.step(state.replace(data=state.data.replace(qpos=qpos)), action, env_data["lib"])


@pytest.mark.full  # ~100 s of compiling the humanoid's rollout; make test runs the same check on
# a toy plain env (tests/test_wrappers.py)
def test_nan_physics_mid_rollout_drops_that_env_from_the_update(env, lib, batched):
    """NaN in env 1's physics (qpos) at its second step of a PPO rollout: the env is reset and
    counted, the other envs' transitions are untouched, and the update equals the one learned
    from a clean rollout with env 1 left out (``tests/nan_rollout_check.py``)."""
    wrapped = wrappers.wrap_for_training(_PoisonAt(env), episode_length_steps=env.config.episode_length_steps)
    start = jax.vmap(wrapped.start)(_reset_to(batched, lib, times=(0.5, 1.0, 0.5, 0.5)))
    poison_time = 1.0 + env.dt  # env 1 reaches it at its second step; the others never do
    check_nan_mid_rollout(wrapped, start, {"lib": lib}, poison_time, "body_distance_max_m",
                          physics=lambda state: state.inner.data.qpos)  # fmt: skip


def test_reference_pd_targets_keep_the_humanoid_up(env, lib, batched):
    """Envs 0, 1 hold the reference dof as PD targets; envs 2, 3 send zero actions (T-pose)."""
    states = _reset_to(batched, lib, times=(0.0, 0.0, 0.0, 0.0))
    zero_action_mask = jnp.array([0.0, 0.0, 1.0, 1.0])[:, None]
    dones, rewards = [], []
    for _ in range(15):
        action = _reference_action(env, lib, states) * (1.0 - zero_action_mask)
        states = batched.step(states, action, lib)
        dones.append(np.asarray(states.terminated))
        rewards.append(np.asarray(states.reward))
    dones, rewards = np.stack(dones), np.stack(rewards)
    assert not dones[:, :2].any(), dones  # the PD-to-reference envs survive 15 steps (0.5 s)
    assert np.all(dones[:, 2:].any(axis=0)), dones  # zero targets raise the arms: > 0.25 m off
    assert rewards[:, :2].mean() > 0.7, rewards[:, :2].mean()


def test_step_compiled_once(env, lib, batched, training):
    """The module's programs, called with the module's shapes (here too, so that the test
    stands alone), are one compile each: the other tests' calls reused them."""
    states = _reset_to(batched, lib)
    wrapped = training.start(states)
    training.step(wrapped, _reference_action(env, lib, states), lib)
    for fn in (batched.step, batched.reset_to, training.after_step, training.start):
        assert fn._cache_size() == 1, fn
