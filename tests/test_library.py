"""MotionLib: packing, interpolation, velocities, sampling, and no recompiles."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.kinematics import forward_kinematics
from physhmr_jax.humanoid.skeleton import Skeleton, mean_skeleton, standing_dof
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.library import build_motion_lib

FPS = 30.0


def _turning_clip(num_frames=31, speed=1.2, yaw_rate=0.6, name="turn", skeleton=None):
    """Root moves along +x at ``speed`` m/s while yawing at ``yaw_rate`` rad/s."""
    t = np.arange(num_frames) / FPS
    root_pos = np.stack([speed * t, np.zeros_like(t), np.full_like(t, 0.9)], -1)
    root_quat = np.asarray(rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.asarray(yaw_rate * t)))
    dof = np.tile(standing_dof(), (num_frames, 1))
    dof[:, 0] = 0.3 * np.sin(2 * np.pi * t)  # L_Hip_x swings
    return Clip(name, FPS, root_pos, root_quat, dof, skeleton or mean_skeleton())


@pytest.fixture(scope="module")
def lib():
    big = Skeleton(mean_skeleton().offsets_m * 1.1, name="big")
    return build_motion_lib([_turning_clip(), _turning_clip(61, 0.5, -0.3, "slow", big)])


def test_packing(lib):
    assert lib.num_clips == 2 and lib.num_frames == 31 + 61
    chex.assert_trees_all_equal(lib.clip_start, jnp.array([0, 31]))
    np.testing.assert_allclose(lib.clip_duration_s, [1.0, 2.0], atol=1e-6)
    # Sampling weight by duration: 1 s and 2 s -> 1/3, 2/3.
    np.testing.assert_allclose(lib.clip_weight, [1 / 3, 2 / 3], atol=1e-6)


def test_state_at_frames_equals_fk(lib):
    clip = _turning_clip()
    frame = 12
    state = lib.state_at(jnp.array([0]), jnp.array([frame / FPS]))
    pos, quat = forward_kinematics(
        jnp.asarray(clip.root_pos_m[frame]), jnp.asarray(clip.root_quat[frame]), jnp.asarray(clip.dof[frame]),
        jnp.asarray(clip.skeleton.offsets_m),
    )  # fmt: skip
    chex.assert_trees_all_close(state.body_pos[0], pos, atol=1e-5)
    np.testing.assert_allclose(np.abs(np.sum(np.asarray(state.body_quat[0] * quat), -1)), 1.0, atol=1e-5)
    chex.assert_trees_all_close(state.dof[0], jnp.asarray(clip.dof[frame], jnp.float32), atol=1e-6)


def test_interpolation_and_velocities(lib):
    # Halfway between frames 3 and 4 of clip 0: root x = 1.2 * 3.5 / 30 = 0.14 m; yaw = 0.6 * 3.5 / 30 = 0.07 rad.
    state = jax.jit(lambda ids, t: lib.state_at(ids, t))(jnp.array([0]), jnp.array([3.5 / FPS]))
    np.testing.assert_allclose(state.root_pos[0], [0.14, 0.0, 0.9], atol=1e-5)
    np.testing.assert_allclose(rot.heading_angle(state.root_quat[0]), 0.07, atol=1e-5)
    # Constant root velocity (1.2, 0, 0) m/s and yaw rate 0.6 rad/s about z.
    np.testing.assert_allclose(state.root_lin_vel[0], [1.2, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(state.root_ang_vel[0], [0.0, 0.0, 0.6], atol=1e-4)
    # Clip 1 ("slow", yaw rate -0.3) at a time past its end is clamped to its last frame.
    end = lib.state_at(jnp.array([1]), jnp.array([5.0]))
    np.testing.assert_allclose(end.root_pos[0, 0], 0.5 * 2.0, atol=1e-5)


def test_sampling_follows_weights_and_ranges(lib):
    ids, times = lib.sample(jax.random.PRNGKey(0), 30000)
    frac = float(jnp.mean(ids == 1))
    assert abs(frac - 2 / 3) < 0.015, frac  # binomial std ~0.003
    assert float(times.min()) >= 0.0
    assert float(jnp.max(jnp.where(ids == 0, times, 0.0))) <= 1.0
    assert float(jnp.max(times)) <= 2.0


def test_sample_starts_leave_one_step(lib):
    """The shared start rule (the env's reference state initialisation, the motion prior):
    the same clips as ``sample`` from the same key, times rescaled onto [0, duration - dt]."""
    key, dt = jax.random.PRNGKey(2), 1 / 30
    ids, times = lib.sample_starts(key, 4000, dt)
    same_ids, raw = lib.sample(key, 4000)
    np.testing.assert_array_equal(ids, same_ids)
    duration = np.asarray(lib.clip_duration_s)[np.asarray(ids)]
    np.testing.assert_allclose(times, np.asarray(raw) * (duration - dt) / duration, rtol=1e-6)
    assert float(times.min()) >= 0.0 and np.all(np.asarray(times) <= duration - dt + 1e-6)
    assert float(np.max(np.asarray(times)[np.asarray(ids) == 0])) > 0.9 * (1.0 - dt)


def test_state_at_compiles_once_per_shape(lib):
    @jax.jit
    @chex.assert_max_traces(n=1)
    def lookup(motion_lib, ids, t):
        return motion_lib.state_at(ids, t)

    ids, times = lib.sample(jax.random.PRNGKey(1), 64)
    lookup(lib, ids, times)
    other = jax.tree.map(lambda x: x + 0 if hasattr(x, "dtype") else x, lib)  # same shapes, new arrays
    lookup(other, ids, times + 0.1)  # a second trace would raise
