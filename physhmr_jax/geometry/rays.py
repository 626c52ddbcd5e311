"""Pixel-as-ray policy input (PhysHMR, Feng et al. 2025, "pixel-as-ray").

For each of the 12 ray joints (:data:`~physhmr_jax.humanoid.skeleton.RAY_BODIES`) a 2D
keypoint is lifted to a world ray from the camera centre ``c`` with unit direction
``d = normalize(R_wc K^-1 [u, v, 1])``. The policy sees the perpendicular offset of the
simulated joint ``p`` from that ray,

    offset = (p - c) - ((p - c) . d) d,

which is zero when the joint lies on the ray whatever its depth, rotated into the root's
heading frame (yaw removed, :func:`physhmr_jax.geometry.rotations.heading_quat_inv`, world
z up), followed by the 12 keypoint confidences.

Observation layout (``ray_observation``), for ``J = len(bodies)`` (12 by default):
``[offset_0 (x, y, z), offset_1, ..., offset_{J-1}, conf_0, ..., conf_{J-1}]`` -> ``4 J``
numbers (48). Joints whose keypoint is missing (``conf <= 0``, NaN confidence, or a
non-finite keypoint) have a zero offset and a zero confidence: masked, never NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import Array

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.geometry.camera import Camera, pixel_rays
from physhmr_jax.humanoid.skeleton import RAY_BODIES

_EPS = 1e-12


def ray_offsets(points_world: Array, ray_origin: Array, ray_dir: Array) -> Array:
    """Perpendicular offset of each point from its ray, ``(p - c) - ((p - c) . d) d``.

    Args:
      points_world: [..., J, 3] points (metres).
      ray_origin: [..., J, 3] one origin per ray, or [..., 3] one origin per batch element
        (the camera centre) shared by the J rays. An origin with exactly one dimension
        fewer than ``points_world`` is read as the latter; otherwise shapes broadcast.
      ray_dir: [..., J, 3] ray directions; renormalised here (a zero direction gives the
        offset ``p - c`` instead of NaN).
    Returns:
      [..., J, 3] world-frame offsets, perpendicular to the rays.
    """
    if ray_origin.ndim == points_world.ndim - 1:
        ray_origin = ray_origin[..., None, :]
    d = ray_dir / jnp.sqrt(jnp.maximum(jnp.sum(ray_dir * ray_dir, axis=-1, keepdims=True), _EPS))
    v = points_world - ray_origin
    return v - jnp.sum(v * d, axis=-1, keepdims=True) * d


def to_heading_frame(vectors_world: Array, root_quat: Array) -> Array:
    """Rotate world vectors by the inverse heading (yaw about world z) of the root.

    Args:
      vectors_world: [..., J, 3].
      root_quat: [..., 4] root orientation (wxyz, world frame).
    Returns:
      [..., J, 3] in the heading frame (x = the root's forward direction projected on the
      ground, z = world up).
    """
    q_inv = rot.heading_quat_inv(root_quat)[..., None, :]
    return rot.quat_rotate(q_inv, vectors_world)


def ray_observation(
    joints_world: Array,
    root_quat: Array,
    camera: Camera,
    kp2d_px: Array,
    conf: Array,
    bodies: Sequence[int] = RAY_BODIES,
) -> Array:
    """The pixel-as-ray part of the vision policy's observation.

    Args:
      joints_world: [*B, 24, 3] simulated body positions (metres, world frame).
      root_quat: [*B, 4] simulated root orientation (wxyz).
      camera: batch shape ``[*B]`` or a prefix of it (``()`` for a static camera).
      kp2d_px: [*B, J, 2] detected keypoints **in ray-joint order**: row ``j`` is the
        keypoint of body ``bodies[j]`` (not the 24-body order, not COCO order).
      conf: [*B, J] keypoint confidences in the same order. Rows with ``conf <= 0`` (or
        NaN) may hold any values, NaN included.
      bodies: static tuple of the J body indices, default the 12 ray joints.
    Returns:
      [*B, 3 J + J]: heading-frame offsets flattened joint by joint, then confidences;
      offsets and confidences of missing keypoints are 0.
    """
    bodies = tuple(int(b) for b in bodies)
    valid = (conf > 0) & jnp.all(jnp.isfinite(kp2d_px), axis=-1)  # [*B, J]; NaN conf -> False
    # Replace missing keypoints with finite pixels before lifting so that neither the values
    # nor the gradients of the masked rows can carry NaN through ``where``.
    safe_kp = jnp.where(valid[..., None], kp2d_px, 0.0)
    origin_world, dir_world = pixel_rays(camera, safe_kp)  # [*B, J, 3] each
    points_world = joints_world[..., jnp.asarray(bodies), :]  # [*B, J, 3]
    offsets_world = ray_offsets(points_world, origin_world, dir_world)
    offsets_heading = to_heading_frame(offsets_world, root_quat)
    offsets_heading = jnp.where(valid[..., None], offsets_heading, 0.0)
    conf_obs = jnp.where(valid, conf, 0.0)
    flat = offsets_heading.reshape(offsets_heading.shape[:-2] + (3 * len(bodies),))
    return jnp.concatenate([flat, conf_obs.astype(flat.dtype)], axis=-1)
