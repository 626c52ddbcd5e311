"""The vision (student) env: its observation reads the video and the body, never the motion."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from video_fixtures import FPS, synthetic_motion_lib, synthetic_video

from physhmr_jax.envs import imitation, vision, wrappers
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.simulation import make_humanoid
from physhmr_jax.vision.video_lib import build_video_lib

FEATURES = 8


@pytest.fixture(scope="module")
def case():
    motion_lib = synthetic_motion_lib()
    videos = [
        synthetic_video(motion_lib, 0, 40, [4.0, -3.0, 1.5], "walk_cam0", FEATURES),
        synthetic_video(motion_lib, 1, 20, [-3.0, 2.0, 2.0], "turn_cam1", FEATURES),
    ]
    data = vision.VisionData(motion_lib, build_video_lib(videos, motion_lib))
    env = vision.VisionEnv(make_humanoid(), FEATURES)
    training_env = wrappers.wrap_for_training(env, episode_length_steps=300)
    reset_to = jax.jit(jax.vmap(env.reset_to, in_axes=(0, None, 0, 0)))
    step = jax.jit(jax.vmap(training_env.step, in_axes=(0, 0, None)))
    return env, training_env, data, videos, reset_to, step


def test_observation_layout_and_sources(case):
    env, _, data, videos, reset_to, _ = case
    assert env.observation_size == 358 + FEATURES + 6 + 48 == vision.observation_size(FEATURES)
    assert vision.observation_size(512) == 924  # PhysHMR's student observation
    state = reset_to(jax.random.split(jax.random.PRNGKey(0), 2), data, jnp.array([0, 1]), jnp.array([0.0, 5 / FPS]))
    obs = np.asarray(state.obs)
    assert obs.shape == (2, env.observation_size) and np.isfinite(obs).all()
    assert state.teacher_obs.shape == (2, env.teacher_observation_size)
    # Proprioception is the teacher's, the features are the target frame's (t + dt: frames 1 and 6).
    np.testing.assert_array_equal(obs[:, :358], np.asarray(state.teacher_obs)[:, :358])
    np.testing.assert_array_equal(
        obs[:, 358 : 358 + FEATURES], np.stack([videos[0].features[1], videos[1].features[6]])
    )
    # The root estimate (exact in these videos) in the simulated root's heading frame.
    for i, (v, f) in enumerate([(0, 1), (1, 6)]):
        root = jnp.asarray(state.data.xquat[i, 1])
        expected = rot.quat_to_6d(rot.quat_mul(rot.heading_quat_inv(root), jnp.asarray(videos[v].root_quat[f])))
        np.testing.assert_allclose(obs[i, 358 + FEATURES : 364 + FEATURES], expected, atol=1e-5)
    # Rays: the simulated joints at t sit near (not on) the rays of frame t + dt; confidences 0.9.
    offsets = obs[:, 364 + FEATURES : 364 + FEATURES + 36]
    assert 0.0 < np.abs(offsets).max() < 0.1
    np.testing.assert_allclose(obs[:, -12:], 0.9, rtol=1e-6)
    np.testing.assert_array_equal(state.video_id, [0, 1])
    np.testing.assert_array_equal(state.clip_id, [0, 1])


def test_ground_truth_never_enters_the_observation(case):
    """The same body stepped with the same action against a different motion: the student's
    observation is bitwise the same; the reward and the teacher's observation are not."""
    _, training_env, data, _, reset_to, step = case
    inner = reset_to(jax.random.split(jax.random.PRNGKey(1), 2), data, jnp.array([0, 1]), jnp.array([2 / FPS, 0.0]))
    state = jax.vmap(training_env.start)(inner)
    lib = data.motion_lib
    perturbed = lib.replace(
        body_pos=lib.body_pos + jnp.array([0.05, -0.03, 0.02]),
        body_quat=rot.quat_mul(rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.float32(0.2)), lib.body_quat),
        body_lin_vel=lib.body_lin_vel * 1.5,
        dof=lib.dof * 0.8,
    )
    action = 0.1 * jax.random.normal(jax.random.PRNGKey(2), (2, imitation.ACTION_SIZE))
    a = step(state, action, data)
    b = step(state, action, data._replace(motion_lib=perturbed))
    assert float(a.done.max()) == 0.0 and float(b.done.max()) == 0.0
    np.testing.assert_array_equal(np.asarray(a.obs), np.asarray(b.obs))
    assert np.abs(np.asarray(a.inner.teacher_obs) - np.asarray(b.inner.teacher_obs)).max() > 1e-2
    assert np.abs(np.asarray(a.reward) - np.asarray(b.reward)).min() > 1e-3
    # ... while the video does enter it: other features, other observation.
    video = data.video_lib.replace(features=data.video_lib.features + 1.0)
    c = step(state, action, data._replace(video_lib=video))
    np.testing.assert_array_equal(
        np.asarray(c.obs)[:, 358 : 358 + FEATURES], np.asarray(a.obs)[:, 358 : 358 + FEATURES] + 1.0
    )
    assert step._cache_size() == 1


def test_input_ablations(case):
    """PhysHMR's input study, same observation size: no rays, no image features, or the ray
    block replaced by the offset of a 3D root estimate (here the true pelvis moved 0.1 m)."""
    env, _, data, _, reset_to, _ = case
    state = reset_to(jax.random.split(jax.random.PRNGKey(5), 2), data, jnp.array([0, 1]), jnp.array([3 / FPS, 0.0]))
    one = jax.tree.map(lambda x: x[0], state)
    lib = build_video_lib(case[3], data.motion_lib, root_position=True)
    lib = lib.replace(root_pos_estimate=lib.root_pos_estimate + jnp.array([0.1, 0.0, 0.0]))

    def observe(ablation):
        config = vision.default_config()
        config.ablation = ablation
        variant = vision.VisionEnv(env.imitation.humanoid, FEATURES, config)
        return np.asarray(variant.student_observation(one.data, one.teacher_obs, lib, one.video_id, one.time_s))

    full = observe("none")
    np.testing.assert_allclose(full, np.asarray(one.obs), atol=1e-5)  # eager = compiled
    rays, feats = slice(364 + FEATURES, None), slice(358, 358 + FEATURES)
    no_rays, no_features, root = observe("no_rays"), observe("no_features"), observe("root_position")
    assert not np.any(no_rays[rays]) and np.any(full[rays])
    np.testing.assert_array_equal(no_rays[: 364 + FEATURES], full[: 364 + FEATURES])
    assert not np.any(no_features[feats]) and np.any(full[feats])
    np.testing.assert_array_equal(
        np.delete(no_features, np.arange(358, 358 + FEATURES)), np.delete(full, np.arange(358, 358 + FEATURES))
    )
    # The offset of the frame at t + dt's estimate (the true pelvis there + 0.1 m) from the
    # simulated pelvis at t, in the heading frame (a rotation: the length is kept).
    pelvis = np.asarray(imitation.body_kinematics(one.data).pos[0])
    expected = case[3][0].joints3d[4, 0] + np.array([0.1, 0.0, 0.0]) - pelvis
    assert np.linalg.norm(root[rays][:3]) == pytest.approx(np.linalg.norm(expected), abs=1e-4)
    assert np.linalg.norm(expected) > 0.11 and not np.any(root[rays][3:])
    assert all(o.shape == (env.observation_size,) for o in (no_rays, no_features, root))
    with pytest.raises(Exception, match="env.ablation must be one of"):
        config = vision.default_config()
        config.ablation = "no_eyes"
        vision.VisionEnv(env.imitation.humanoid, FEATURES, config)


def test_video_end_truncates_and_start_modes(case):
    env, training_env, data, _, reset_to, step = case
    # Video 1 has 20 frames: from frame 18 one step reaches frame 19, its last -> truncated;
    # video 0 from frame 0 goes on. (A batch of 2, as above: the same compiled programs.)
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    inner = reset_to(keys, data, jnp.array([1, 0]), jnp.array([18 / FPS, 0.0]))
    nxt = step(jax.vmap(training_env.start)(inner), jnp.zeros((2, imitation.ACTION_SIZE)), data)
    np.testing.assert_array_equal(nxt.truncated, [1.0, 0.0])
    np.testing.assert_array_equal(nxt.terminated, [0.0, 0.0])
    np.testing.assert_array_equal(nxt.metrics[vision.VIDEO_END], [1.0, 0.0])
    assert step._cache_size() == 1 and reset_to._cache_size() == 1
    with pytest.raises(ValueError, match="absolute PD targets"):
        config = vision.default_config()
        config.action_mode = "residual"
        vision.VisionEnv(env.imitation.humanoid, FEATURES, config)
    # Random starts land on frames with one step of video left.
    keys = jax.random.split(jax.random.PRNGKey(4), 256)
    _, video_ids, times = jax.vmap(env.sample_start, in_axes=(0, None))(keys, data.video_lib)
    frames = np.round(np.asarray(times) * FPS)
    np.testing.assert_allclose(np.asarray(times) * FPS, frames, atol=1e-4)
    last = np.asarray(data.video_lib.video_num_frames)[np.asarray(video_ids)] - 2
    assert frames.min() == 0 and np.all(frames <= last) and set(np.unique(video_ids).tolist()) == {0, 1}
