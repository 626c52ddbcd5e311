"""Tests for physhmr_jax.geometry.rays (the pixel-as-ray observation of PhysHMR)."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.geometry import camera as cam
from physhmr_jax.geometry import rays
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.skeleton import BODY_INDEX, NUM_BODIES, RAY_BODIES

T = 16
J = len(RAY_BODIES)  # 12
OBS_DIM = 3 * J + J  # 48
ATOL_M = 1e-5

# Jitted once per shape (eager op-by-op dispatch is slower); eager agreement is tested below.
_ray_observation = jax.jit(rays.ray_observation)
_project = jax.jit(cam.project)
_pixel_rays = jax.jit(cam.pixel_rays)
_ray_offsets = jax.jit(rays.ray_offsets)


def _K():
    return jnp.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])


def _scene(key, *, moving: bool):
    """Random joints [T, 24, 3] around a wandering root, random root quats [T, 4], a camera.

    The moving camera translates ~3 m and pans to follow the root; the static one is fixed.
    """
    k_pos, k_axis, k_ang = jax.random.split(key, 3)
    s = jnp.linspace(0.0, 1.0, T)
    root_world = jnp.stack([1.5 * s, 0.5 * jnp.sin(3.0 * s), jnp.full_like(s, 1.0)], -1)  # [T, 3]
    joints_world = root_world[:, None, :] + jax.random.uniform(k_pos, (T, NUM_BODIES, 3), minval=-0.9, maxval=0.9)
    axis = jax.random.normal(k_axis, (T, 3))
    axis = axis / jnp.linalg.norm(axis, axis=-1, keepdims=True)
    root_quat = rot.quat_from_axis_angle(axis, jax.random.uniform(k_ang, (T,), minval=-3.0, maxval=3.0))
    if moving:
        eye = jnp.stack([5.0 - 3.0 * s, -4.0 + 1.0 * s, 1.5 + 0.2 * s], -1)  # [T, 3]
        camera = cam.Camera(K=_K(), R_wc=cam.look_at(eye, root_world), t_wc=eye)
    else:
        eye = jnp.array([4.0, -4.0, 1.6])
        camera = cam.Camera(K=_K(), R_wc=cam.look_at(eye, jnp.array([0.75, 0.0, 1.0])), t_wc=eye)
    return joints_world, root_quat, camera


def _keypoints(joints_world, camera):
    """Noise-free keypoints of the ray bodies, in ray-joint order: [T, 12, 2]."""
    uv, depth = _project(camera, joints_world[:, jnp.asarray(RAY_BODIES)])
    assert bool(jnp.all(depth > 0.5))
    return uv


def test_ray_offsets_hand_worked():
    # Ray from the origin along +x. p = (3, 0.06, 0.08): p - c = (3, .06, .08), (p - c).d = 3,
    # offset = (0, 0.06, 0.08), norm 0.1; the [..., 3] origin broadcasts over J.
    points = jnp.array([[[3.0, 0.06, 0.08], [-2.0, 0.0, 0.0]]])  # [1, 2, 3]
    origin = jnp.zeros((1, 3))
    direction = jnp.array([[[2.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])  # not unit: renormalised
    off = rays.ray_offsets(points, origin, direction)
    np.testing.assert_allclose(off, jnp.array([[[0.0, 0.06, 0.08], [0.0, 0.0, 0.0]]]), atol=1e-7)
    np.testing.assert_allclose(
        off, rays.ray_offsets(points, jnp.broadcast_to(origin[:, None], points.shape), direction), atol=1e-7
    )


def test_to_heading_frame_hand_worked():
    # Root yawed +90 deg (facing world +y) and tilted about its own x by 0.3 rad (no yaw
    # change): world +y is "forward" = heading +x; world +x is "right" = heading -y; z stays.
    q_yaw = rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.array(jnp.pi / 2))
    q = rot.quat_mul(q_yaw, rot.quat_from_axis_angle(jnp.array([1.0, 0.0, 0.0]), jnp.array(0.3)))
    v = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    out = rays.to_heading_frame(v, q)
    np.testing.assert_allclose(out, jnp.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 2.0]]), atol=1e-6)


def test_noise_free_joints_lie_on_their_rays():
    for seed, moving in ((0, False), (1, True)):
        joints_world, root_quat, camera = _scene(jax.random.key(seed), moving=moving)
        # Every one of the 24 joints lies on the ray through its own projection.
        uv_all, _ = _project(camera, joints_world)
        origin, direction = _pixel_rays(camera, uv_all)  # [T, 24, 3]
        off = _ray_offsets(joints_world, origin, direction)
        assert float(jnp.max(jnp.linalg.norm(off, axis=-1))) <= ATOL_M, (seed, moving)
        # And the observation's offsets are zero, its confidences passed through.
        kp2d = _keypoints(joints_world, camera)
        conf = jnp.full((T, J), 0.9)
        obs = _ray_observation(joints_world, root_quat, camera, kp2d, conf)
        chex.assert_shape(obs, (T, OBS_DIM))
        assert float(jnp.max(jnp.abs(obs[:, : 3 * J]))) <= ATOL_M, (seed, moving)
        np.testing.assert_allclose(obs[:, 3 * J :], conf)


def test_known_perpendicular_offset():
    joints_world, _, camera = _scene(jax.random.key(2), moving=False)
    b = BODY_INDEX["L_Wrist"]
    j = RAY_BODIES.index(b)
    uv = jnp.array([400.0, 200.0])
    origin, direction = cam.pixel_rays(camera, uv)
    n = jnp.cross(direction, jnp.array([0.0, 0.0, 1.0]))
    n = n / jnp.linalg.norm(n)  # unit, perpendicular to the ray
    # p = c + 3 d + 0.1 n  ->  offset = 0.1 n, norm 0.1, whatever the 3 m along the ray.
    p = origin + 3.0 * direction + 0.1 * n
    off = rays.ray_offsets(p[None], origin, direction[None])[0]
    np.testing.assert_allclose(off, 0.1 * n, atol=ATOL_M)
    np.testing.assert_allclose(jnp.linalg.norm(off), 0.1, atol=ATOL_M)
    # Through the observation with an identity root (heading frame = world frame).
    joints = joints_world[0].at[b].set(p)
    kp2d = jnp.zeros((J, 2)).at[j].set(uv)
    conf = jnp.zeros((J,)).at[j].set(1.0)
    obs = rays.ray_observation(joints, jnp.array([1.0, 0.0, 0.0, 0.0]), camera, kp2d, conf)
    np.testing.assert_allclose(obs[3 * j : 3 * j + 3], 0.1 * n, atol=ATOL_M)
    np.testing.assert_allclose(jnp.delete(obs[: 3 * J].reshape(J, 3), j, axis=0), 0.0)


def test_heading_frame_invariance_under_world_yaw():
    joints_world, root_quat, camera = _scene(jax.random.key(3), moving=True)
    k_noise, k_yaw, k_conf = jax.random.split(jax.random.key(4), 3)
    kp2d = _keypoints(joints_world, camera) + 8.0 * jax.random.normal(k_noise, (T, J, 2))  # ~8 px detector noise
    conf = jax.random.uniform(k_conf, (T, J), minval=0.1, maxval=1.0)
    obs = _ray_observation(joints_world, root_quat, camera, kp2d, conf)
    assert float(jnp.max(jnp.abs(obs[:, : 3 * J]))) > 1e-3  # the offsets are not trivially zero

    yaw = jax.random.uniform(k_yaw, (), minval=-jnp.pi, maxval=jnp.pi)
    q_yaw = rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), yaw)
    R_yaw = rot.quat_to_matrix(q_yaw)
    # Rotate the whole world about z: joints, root, camera pose; pixels do not change.
    camera_rot = cam.Camera(K=camera.K, R_wc=R_yaw @ camera.R_wc, t_wc=camera.t_wc @ R_yaw.T)
    obs_rot = _ray_observation(joints_world @ R_yaw.T, rot.quat_mul(q_yaw, root_quat), camera_rot, kp2d, conf)
    np.testing.assert_allclose(obs_rot, obs, atol=ATOL_M)


def test_zero_confidence_masks_garbage_keypoints():
    joints_world, root_quat, camera = _scene(jax.random.key(5), moving=True)
    kp2d = _keypoints(joints_world, camera) + 5.0
    conf = jnp.full((T, J), 0.8)
    missing = jnp.zeros((T, J), bool).at[:, 0].set(True).at[3, :].set(True).at[7, 5].set(True)
    conf = jnp.where(missing, 0.0, conf)
    garbage = jnp.where(jnp.arange(T)[:, None, None] % 2 == 0, jnp.nan, 1e30)
    kp2d = jnp.where(missing[..., None], garbage, kp2d)
    # A NaN confidence and a NaN keypoint with positive confidence also count as missing.
    conf = conf.at[9, 2].set(jnp.nan)
    kp2d = kp2d.at[10, 4, 1].set(jnp.inf)
    missing = missing.at[9, 2].set(True).at[10, 4].set(True)

    obs = _ray_observation(joints_world, root_quat, camera, kp2d, conf)
    assert bool(jnp.all(jnp.isfinite(obs)))
    offsets = obs[:, : 3 * J].reshape(T, J, 3)
    np.testing.assert_array_equal(offsets[missing], 0.0)
    np.testing.assert_array_equal(obs[:, 3 * J :][missing], 0.0)
    assert bool(jnp.all(jnp.linalg.norm(offsets[~missing], axis=-1) > 1e-4))  # the 5 px shift shows

    # Gradients through the masked rows stay finite too (the policy's loss sees this input).
    grad = jax.jit(jax.grad(lambda x: jnp.sum(rays.ray_observation(x, root_quat, camera, kp2d, conf))))(joints_world)
    assert bool(jnp.all(jnp.isfinite(grad)))


def test_static_camera_broadcasts_over_frames():
    # A () camera with [T] frames equals a [T] camera holding T copies of it.
    joints_world, root_quat, camera = _scene(jax.random.key(6), moving=False)
    kp2d = _keypoints(joints_world, camera) + 3.0
    conf = jnp.ones((T, J))
    tiled = cam.Camera(
        K=jnp.broadcast_to(camera.K, (T, 3, 3)),
        R_wc=jnp.broadcast_to(camera.R_wc, (T, 3, 3)),
        t_wc=jnp.broadcast_to(camera.t_wc, (T, 3)),
    )
    np.testing.assert_allclose(
        _ray_observation(joints_world, root_quat, camera, kp2d, conf),
        _ray_observation(joints_world, root_quat, tiled, kp2d, conf),
        atol=1e-6,
    )


def test_jit_matches_eager_without_retracing():
    @jax.jit
    @chex.assert_max_traces(n=1)
    def observe(joints_world, root_quat, camera, kp2d, conf):
        return rays.ray_observation(joints_world, root_quat, camera, kp2d, conf)

    for seed in (7, 8):
        joints_world, root_quat, camera = _scene(jax.random.key(seed), moving=True)
        kp2d = _keypoints(joints_world, camera) + 4.0 * jax.random.normal(jax.random.key(seed + 100), (T, J, 2))
        conf = jnp.full((T, J), 0.5).at[2, 3].set(0.0)
        eager = rays.ray_observation(joints_world, root_quat, camera, kp2d, conf)
        # XLA fuses and reorders the float32 arithmetic: (p - c) with |p - c| ~ 5 m carries
        # ~1 ulp = 5e-7 m of rounding, so jit and eager agree to ~2e-6 m, not bit for bit.
        np.testing.assert_allclose(observe(joints_world, root_quat, camera, kp2d, conf), eager, atol=ATOL_M)
