"""Tests for physhmr_jax.geometry.camera (OpenCV pinhole, R_wc world-from-camera)."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.geometry import camera as cam

W, H = 640, 480

# Jitted once per shape: op-by-op eager dispatch compiles every primitive and is slower.
# Eager and jitted results are compared in test_jit_matches_eager_without_retracing.
_project = jax.jit(cam.project)
_unproject = jax.jit(cam.unproject)
_pixel_rays = jax.jit(cam.pixel_rays)
_look_at = jax.jit(cam.look_at)


def _K(fx=500.0, fy=500.0, cx=320.0, cy=240.0):
    return jnp.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def _static_camera():
    eye = jnp.array([4.0, -3.0, 1.5])
    return cam.Camera(K=_K(), R_wc=_look_at(eye, jnp.array([0.0, 0.0, 1.0])), t_wc=eye)


def _moving_camera(T=20):
    """Camera translating along a line while panning to follow a walking target."""
    s = jnp.linspace(0.0, 1.0, T)
    eye = jnp.stack([5.0 - 2.0 * s, -4.0 + 3.0 * s, 1.4 + 0.3 * s], -1)  # [T, 3]
    target = jnp.stack([2.0 * s, 0.5 * s, jnp.full_like(s, 1.0)], -1)  # [T, 3]
    return cam.Camera(K=_K(), R_wc=_look_at(eye, target), t_wc=eye), target


def test_intrinsics_from_fov():
    # fovy = 90 deg, H = 480: f = 240 / tan(45 deg) = 240; principal point (320, 240).
    K = cam.intrinsics_from_fov(90.0, W, H)
    np.testing.assert_allclose(K, _K(240.0, 240.0), atol=1e-4)
    # Horizontal 90 deg over W = 640: f = 320.
    K = cam.intrinsics_from_fov(90.0, W, H, fov_axis="horizontal")
    np.testing.assert_allclose(K[0, 0], 320.0, atol=1e-4)
    # Batched fovs -> [2, 3, 3].
    chex.assert_shape(cam.intrinsics_from_fov(jnp.array([60.0, 90.0]), W, H), (2, 3, 3))
    with pytest.raises(ValueError):
        cam.intrinsics_from_fov(60.0, W, H, fov_axis="diagonal")


def test_look_at_is_rotation_and_target_at_principal_point():
    eye = jnp.array([[3.0, 2.0, 1.6], [-1.0, 4.0, 0.5], [0.0, 0.0, 5.0]])  # last: straight down
    target = jnp.array([[0.0, 0.0, 1.0], [0.5, -0.5, 1.2], [0.0, 0.0, 0.0]])
    R = _look_at(eye, target)
    np.testing.assert_allclose(jnp.einsum("...ji,...jk->...ik", R, R), jnp.broadcast_to(jnp.eye(3), R.shape), atol=1e-6)
    np.testing.assert_allclose(jnp.linalg.det(R), 1.0, atol=1e-6)
    camera = cam.Camera(K=_K(), R_wc=R, t_wc=eye)
    uv, depth = _project(camera, target)
    np.testing.assert_allclose(uv, jnp.tile(jnp.array([320.0, 240.0]), (3, 1)), atol=1e-3)
    np.testing.assert_allclose(depth, jnp.linalg.norm(target - eye, axis=-1), atol=1e-5)
    # Upright image for the non-degenerate views: camera y (down) has a negative world z.
    assert bool(jnp.all(R[:2, 2, 1] < 0))
    # Camera x (right) is horizontal.
    np.testing.assert_allclose(R[:2, 2, 0], 0.0, atol=1e-6)


def test_known_projection():
    # Camera at the origin looking along world +x with z up: camera x (right) = world -y,
    # camera y (down) = world -z, camera z = world +x.
    R = _look_at(jnp.zeros(3), jnp.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(R, jnp.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), atol=1e-6)
    camera = cam.Camera(K=_K(), R_wc=R, t_wc=jnp.zeros(3))
    # 2 m ahead, 0.5 m to the right (world -y): u = 320 + 500 * 0.5 / 2 = 445, v = cy = 240.
    # 2 m ahead, 0.2 m up (world +z): v = 240 - 500 * 0.2 / 2 = 190.
    points = jnp.array([[2.0, -0.5, 0.0], [2.0, 0.0, 0.2]])
    uv, depth = _project(camera, points)
    np.testing.assert_allclose(uv, jnp.array([[445.0, 240.0], [320.0, 190.0]]), atol=1e-4)
    np.testing.assert_allclose(depth, jnp.array([2.0, 2.0]), atol=1e-6)


def test_round_trip_static_camera():
    camera = _static_camera()
    points = jax.random.uniform(jax.random.key(0), (7, 24, 3), minval=-1.0, maxval=1.0) + jnp.array([0.0, 0.0, 1.0])
    uv, depth = _project(camera, points)
    chex.assert_shape((uv, depth), ((7, 24, 2), (7, 24)))
    assert bool(jnp.all(depth > 0))
    back = _unproject(camera, uv, depth)
    np.testing.assert_allclose(back, points, atol=1e-5)


def test_round_trip_moving_camera_per_frame():
    T, J = 20, 24
    camera, target = _moving_camera(T)
    chex.assert_equal(camera.batch_shape, (T,))
    points = target[:, None, :] + jax.random.uniform(jax.random.key(1), (T, J, 3), minval=-0.8, maxval=0.8)
    uv, depth = _project(camera, points)
    chex.assert_shape((uv, depth), ((T, J, 2), (T, J)))
    np.testing.assert_allclose(_unproject(camera, uv, depth), points, atol=1e-5)
    # Frame t must use camera t: compare with a Python loop over frames.
    for t in (0, T // 2, T - 1):
        frame_cam = cam.Camera(K=camera.K, R_wc=camera.R_wc[t], t_wc=camera.t_wc[t])
        uv_t, depth_t = _project(frame_cam, points[t])
        np.testing.assert_allclose(uv[t], uv_t, atol=1e-4)
        np.testing.assert_allclose(depth[t], depth_t, atol=1e-6)


def test_pixel_rays_pass_through_points():
    camera, target = _moving_camera(10)
    points = target[:, None, :] + jax.random.normal(jax.random.key(2), (10, 5, 3)) * 0.5
    uv, _ = _project(camera, points)
    origin, direction = _pixel_rays(camera, uv)
    chex.assert_shape((origin, direction), ((10, 5, 3), (10, 5, 3)))
    np.testing.assert_allclose(jnp.linalg.norm(direction, axis=-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(origin, jnp.broadcast_to(camera.t_wc[:, None], origin.shape))
    # The unit vector from the camera centre to each point is the ray direction.
    to_point = points - origin
    np.testing.assert_allclose(direction, to_point / jnp.linalg.norm(to_point, axis=-1, keepdims=True), atol=1e-6)


def test_behind_camera_is_finite():
    camera = _static_camera()
    uv, depth = _project(camera, camera.t_wc)  # the centre itself: depth 0
    assert bool(jnp.all(jnp.isfinite(uv)))
    np.testing.assert_allclose(depth, 0.0, atol=1e-6)


def test_jit_matches_eager_without_retracing():
    @jax.jit
    @chex.assert_max_traces(n=1)
    def f(camera, points):
        uv, depth = cam.project(camera, points)
        return cam.unproject(camera, uv, depth)

    camera, target = _moving_camera(6)
    for seed in (3, 4):
        points = target[:, None, :] + jax.random.normal(jax.random.key(seed), (6, 4, 3)) * 0.3
        moved = camera.replace(t_wc=camera.t_wc + 0.1 * seed)
        eager_uv, eager_depth = cam.project(moved, points)
        np.testing.assert_allclose(f(moved, points), cam.unproject(moved, eager_uv, eager_depth), atol=1e-6)
