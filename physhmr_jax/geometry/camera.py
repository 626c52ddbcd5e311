"""Pinhole cameras in JAX: intrinsics, look-at poses, projection, unprojection, pixel rays.

Conventions (the video shards of :mod:`physhmr_jax.vision.shards` follow them):
  * camera frame is OpenCV's: x right, y down, z forward (along the optical axis);
  * ``R_wc`` [..., 3, 3] rotates camera-frame vectors into the world frame (its columns
    are the camera's x, y, z axes written in world coordinates), ``t_wc`` [..., 3] is the
    camera centre in the world (metres). So ``p_world = R_wc @ p_cam + t_wc`` and
    ``p_cam = R_wc.T @ (p_world - t_wc)``;
  * ``K`` [..., 3, 3] is the upper-triangular intrinsic matrix
    ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` in pixels; ``uv = (K @ p_cam)[:2] / z``;
  * ``depth_m`` is the z coordinate in the camera frame (distance along the optical axis),
    not the Euclidean distance to the camera centre;
  * pixel coordinates are continuous with the image spanning ``[0, W] x [0, H]``, pixel
    ``(i, j)`` covering ``[i, i + 1) x [j, j + 1)``: the image centre is ``(W / 2, H / 2)``.
    This is how MuJoCo/OpenGL renders, so :func:`intrinsics_from_fov` with MuJoCo's
    ``fovy`` reproduces the renderer's projection. (OpenCV puts pixel centres on the
    integers; its coordinates are ours minus 0.5.)
  * the world is z up (:mod:`physhmr_jax.humanoid.skeleton`).

Broadcasting: a :class:`Camera` has a batch shape (e.g. ``()`` for one static camera,
``[T]`` for one camera per frame). Points passed with it have shape
``[*camera_batch, *extra, 3]``: the camera's batch dimensions come first and the points
may carry further dimensions after them (``[T, J, 3]`` joints with a ``[T]`` camera, each
frame's joints seen by that frame's camera). Fields of one camera may also differ in batch
shape (a fixed ``K`` [3, 3] with per-frame ``R_wc`` [T, 3, 3] and ``t_wc`` [T, 3]).
Everything is jit/vmap friendly; shapes are static.
"""

from __future__ import annotations

import flax.struct
import jax.numpy as jnp
from jax import Array

# Smallest |depth| used as a divisor: points on the camera's plane would otherwise give inf.
_MIN_DEPTH_M = 1e-6
_EPS = 1e-12


@flax.struct.dataclass
class Camera:
    """A pinhole camera (or a batch of them).

    Attributes:
      K: [*bK, 3, 3] intrinsics in pixels.
      R_wc: [*bR, 3, 3] world-from-camera rotation (OpenCV camera axes: x right, y down,
        z forward).
      t_wc: [*bt, 3] camera centre in the world (metres).
    The batch shape of the camera is the broadcast of ``bK``, ``bR`` and ``bt``.
    """

    K: Array
    R_wc: Array
    t_wc: Array

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return jnp.broadcast_shapes(self.K.shape[:-2], self.R_wc.shape[:-2], self.t_wc.shape[:-1])


def _align(x: Array, core_ndim: int, batch_ndim: int, n_extra: int) -> Array:
    """Reshape a camera field so that it broadcasts against ``[*camera_batch, *extra, *core]``.

    x: [*b, *core] with len(b) <= batch_ndim -> [*(1..., *b), *(1,) * n_extra, *core].
    """
    b = x.shape[: x.ndim - core_ndim]
    core = x.shape[x.ndim - core_ndim :]
    return x.reshape((1,) * (batch_ndim - len(b)) + b + (1,) * n_extra + core)


def _aligned_fields(camera: Camera, point_batch_ndim: int) -> tuple[Array, Array, Array]:
    """K, R_wc, t_wc reshaped to broadcast against points of ``point_batch_ndim`` leading dims."""
    batch_ndim = len(camera.batch_shape)
    n_extra = max(point_batch_ndim - batch_ndim, 0)
    return (
        _align(camera.K, 2, batch_ndim, n_extra),
        _align(camera.R_wc, 2, batch_ndim, n_extra),
        _align(camera.t_wc, 1, batch_ndim, n_extra),
    )


def intrinsics_from_fov(fov_deg, width: int, height: int, *, fov_axis: str = "vertical") -> Array:
    """Intrinsics of a centred pinhole camera with square pixels and no skew.

    Args:
      fov_deg: [...] full field of view in degrees, along ``fov_axis``.
      width, height: image size in pixels.
      fov_axis: ``"vertical"`` (MuJoCo's ``fovy``, the default) or ``"horizontal"``.
    Returns:
      K: [..., 3, 3] with ``f = (size / 2) / tan(fov / 2)`` and ``(cx, cy) = (W / 2, H / 2)``.
    """
    if fov_axis not in ("vertical", "horizontal"):
        raise ValueError(f"fov_axis must be 'vertical' or 'horizontal', got {fov_axis!r}")
    fov_rad = jnp.deg2rad(jnp.asarray(fov_deg, dtype=float))
    size = height if fov_axis == "vertical" else width
    f = 0.5 * size / jnp.tan(0.5 * fov_rad)
    zero = jnp.zeros_like(f)
    one = jnp.ones_like(f)
    cx = jnp.full_like(f, 0.5 * width)
    cy = jnp.full_like(f, 0.5 * height)
    return jnp.stack(
        [jnp.stack([f, zero, cx], -1), jnp.stack([zero, f, cy], -1), jnp.stack([zero, zero, one], -1)],
        axis=-2,
    )


def _normalize(v: Array) -> Array:
    return v / jnp.sqrt(jnp.maximum(jnp.sum(v * v, axis=-1, keepdims=True), _EPS))


def look_at(eye_world: Array, target_world: Array, up_world=(0.0, 0.0, 1.0)) -> Array:
    """World-from-camera rotation of a camera at ``eye_world`` looking at ``target_world``.

    The camera's z axis points at the target, its x axis is horizontal-right
    (``z x up``) and its y axis points down (``z x x``), so the image is upright when
    ``up_world`` is the world's up. When the view direction is parallel to ``up_world``
    (looking straight down or up) the roll is fixed by world x or y instead.

    Args:
      eye_world: [..., 3] camera centre (metres).
      target_world: [..., 3] point to look at.
      up_world: [..., 3] world up direction (default +z).
    Returns:
      R_wc: [..., 3, 3], columns are the camera x, y, z axes in the world.
    """
    eye_world = jnp.asarray(eye_world, dtype=float)
    target_world = jnp.asarray(target_world, dtype=eye_world.dtype)
    up_world = jnp.asarray(up_world, dtype=eye_world.dtype)
    z_axis = _normalize(target_world - eye_world)
    up_world = jnp.broadcast_to(up_world, z_axis.shape)
    right = jnp.cross(z_axis, up_world)
    # Fallback up for a view along ``up_world``: whichever of world x / y is less aligned.
    e_x = jnp.array([1.0, 0.0, 0.0], z_axis.dtype)
    e_y = jnp.array([0.0, 1.0, 0.0], z_axis.dtype)
    alt_up = jnp.where(jnp.abs(z_axis[..., :1]) < 0.9, e_x, e_y)
    right_alt = jnp.cross(z_axis, alt_up)
    degenerate = jnp.sum(right * right, axis=-1, keepdims=True) < 1e-10
    x_axis = _normalize(jnp.where(degenerate, right_alt, right))
    y_axis = jnp.cross(z_axis, x_axis)
    return jnp.stack([x_axis, y_axis, z_axis], axis=-1)


def world_to_camera(camera: Camera, points_world: Array) -> Array:
    """[*camera_batch, *extra, 3] world points -> same shape in the camera frame."""
    _, R_wc, t_wc = _aligned_fields(camera, points_world.ndim - 1)
    # p_cam = R_wc^T (p - t): contract over R's row index.
    return jnp.einsum("...ji,...j->...i", R_wc, points_world - t_wc)


def camera_to_world(camera: Camera, points_cam: Array) -> Array:
    """[*camera_batch, *extra, 3] camera-frame points -> same shape in the world."""
    _, R_wc, t_wc = _aligned_fields(camera, points_cam.ndim - 1)
    return jnp.einsum("...ij,...j->...i", R_wc, points_cam) + t_wc


def project(camera: Camera, points_world: Array) -> tuple[Array, Array]:
    """Pinhole projection.

    Args:
      camera: batch shape ``[*B]``.
      points_world: [*B, *extra, 3] (metres).
    Returns:
      uv_px: [*B, *extra, 2] pixel coordinates.
      depth_m: [*B, *extra] z in the camera frame; points with ``depth_m <= 0`` are behind
        the camera and their ``uv_px`` is meaningless (finite, never inf/NaN): mask on depth.
    """
    K, _, _ = _aligned_fields(camera, points_world.ndim - 1)
    p_cam = world_to_camera(camera, points_world)
    depth_m = p_cam[..., 2]
    safe_depth = jnp.where(jnp.abs(depth_m) < _MIN_DEPTH_M, _MIN_DEPTH_M, depth_m)
    xy1 = p_cam / safe_depth[..., None]
    uv_px = jnp.einsum("...ij,...j->...i", K[..., :2, :], xy1)
    return uv_px, depth_m


def normalized_coords(K: Array, uv_px: Array) -> Array:
    """``K^-1 [u, v, 1]``: the camera-frame point at depth 1 seen at pixel ``uv_px``.

    K: [..., 3, 3] upper triangular (broadcast against uv_px's leading dims),
    uv_px: [..., 2] -> [..., 3] with last entry 1. Closed form, no matrix inverse.
    """
    fx, s, cx = K[..., 0, 0], K[..., 0, 1], K[..., 0, 2]
    fy, cy = K[..., 1, 1], K[..., 1, 2]
    y = (uv_px[..., 1] - cy) / fy
    x = (uv_px[..., 0] - cx - s * y) / fx
    return jnp.stack([x, y, jnp.ones_like(x)], axis=-1)


def unproject(camera: Camera, uv_px: Array, depth_m: Array) -> Array:
    """Inverse of :func:`project`: the world point seen at ``uv_px`` at z-depth ``depth_m``.

    Args:
      camera: batch shape ``[*B]``.
      uv_px: [*B, *extra, 2] pixel coordinates.
      depth_m: [*B, *extra] z in the camera frame (metres).
    Returns:
      points_world: [*B, *extra, 3].
    """
    K, _, _ = _aligned_fields(camera, uv_px.ndim - 1)
    p_cam = normalized_coords(K, uv_px) * depth_m[..., None]
    return camera_to_world(camera, p_cam)


def pixel_rays(camera: Camera, uv_px: Array) -> tuple[Array, Array]:
    """World rays through pixels: the camera centre and the unit direction to the pixel.

    Args:
      camera: batch shape ``[*B]``.
      uv_px: [*B, *extra, 2] pixel coordinates.
    Returns:
      origin_world: [*B, *extra, 3] the camera centre, broadcast to each ray.
      dir_world: [*B, *extra, 3] unit directions, ``normalize(R_wc @ K^-1 [u, v, 1])``
        (pointing in front of the camera).
    """
    K, R_wc, t_wc = _aligned_fields(camera, uv_px.ndim - 1)
    d_cam = normalized_coords(K, uv_px)
    dir_world = _normalize(jnp.einsum("...ij,...j->...i", R_wc, d_cam))
    origin_world = jnp.broadcast_to(t_wc, dir_world.shape)
    return origin_world, dir_world
