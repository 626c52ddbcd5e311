"""Rotation helpers in JAX: quaternions (wxyz, as MuJoCo), matrices, 6D, Euler XYZ.

Conventions used everywhere in physhmr_jax:
  * quaternions are ``(w, x, y, z)``, unit norm, Hamilton product, active rotation
    (``quat_rotate(q, v)`` rotates the vector ``v``);
  * matrices act on column vectors (``R @ v``);
  * the 6D representation is the first two *columns* of the rotation matrix
    (Zhou et al. 2019), the "tan-norm" form PHC uses for body rotations;
  * ``euler_xyz`` means the intrinsic x-then-y-then-z sequence, ``R = Rx(a) Ry(b) Rz(c)``,
    which is how MuJoCo composes three hinge joints listed x, y, z in one body.

All functions broadcast over leading batch dimensions and are jit/vmap friendly.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

_EPS = 1e-9


def quat_mul(q1: Array, q2: Array) -> Array:
    """Hamilton product ``q1 * q2``. q1, q2: [..., 4] (wxyz)."""
    w1, x1, y1, z1 = jnp.moveaxis(q1, -1, 0)
    w2, x2, y2, z2 = jnp.moveaxis(q2, -1, 0)
    return jnp.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )


def quat_conj(q: Array) -> Array:
    """Conjugate (the inverse of a unit quaternion). q: [..., 4]."""
    return q * jnp.array([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)


def quat_normalize(q: Array) -> Array:
    return q / (jnp.linalg.norm(q, axis=-1, keepdims=True) + _EPS)


def quat_rotate(q: Array, v: Array) -> Array:
    """Rotate vectors ``v`` [..., 3] by unit quaternions ``q`` [..., 4]."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * jnp.cross(u, v)
    return v + w * t + jnp.cross(u, t)


def quat_rotate_inv(q: Array, v: Array) -> Array:
    """Rotate ``v`` by the inverse of ``q``."""
    return quat_rotate(quat_conj(q), v)


def quat_from_axis_angle(axis: Array, angle: Array) -> Array:
    """axis: [..., 3] unit, angle: [...] radians -> [..., 4]."""
    half = 0.5 * angle[..., None]
    return jnp.concatenate([jnp.cos(half), jnp.sin(half) * axis], axis=-1)


def quat_from_rotvec(rotvec: Array) -> Array:
    """Exponential map: rotation vector [..., 3] (axis * angle) -> quaternion [..., 4].

    Smooth at zero (uses the sinc series), so it is safe under ``jax.grad``.
    """
    theta2 = jnp.sum(rotvec * rotvec, axis=-1, keepdims=True)
    theta = jnp.sqrt(theta2 + 1e-20)
    small = theta2 < 1e-8
    # sin(theta/2)/theta ~ 1/2 - theta^2/48 for small theta.
    scale = jnp.where(small, 0.5 - theta2 / 48.0, jnp.sin(0.5 * theta) / theta)
    w = jnp.where(small, 1.0 - theta2 / 8.0, jnp.cos(0.5 * theta))
    return jnp.concatenate([w, scale * rotvec], axis=-1)


def quat_to_rotvec(q: Array) -> Array:
    """Logarithm map: quaternion [..., 4] -> rotation vector [..., 3], angle in [0, pi]."""
    q = jnp.where(q[..., :1] < 0, -q, q)
    v = q[..., 1:]
    sin_half = jnp.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2.0 * jnp.arctan2(sin_half, q[..., :1])
    scale = jnp.where(sin_half < 1e-8, 2.0, angle / (sin_half + 1e-20))
    return scale * v


def quat_to_matrix(q: Array) -> Array:
    """[..., 4] -> [..., 3, 3]."""
    w, x, y, z = jnp.moveaxis(q, -1, 0)
    return jnp.stack(
        [
            jnp.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            jnp.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            jnp.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def matrix_to_quat(m: Array) -> Array:
    """[..., 3, 3] -> [..., 4] with w >= 0 (branch-free, numerically stable)."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Four candidate solutions; pick the one with the largest denominator.
    qw = jnp.sqrt(jnp.maximum(1.0 + m00 + m11 + m22, 0.0)) * 0.5
    qx = jnp.sqrt(jnp.maximum(1.0 + m00 - m11 - m22, 0.0)) * 0.5
    qy = jnp.sqrt(jnp.maximum(1.0 - m00 + m11 - m22, 0.0)) * 0.5
    qz = jnp.sqrt(jnp.maximum(1.0 - m00 - m11 + m22, 0.0)) * 0.5
    c_w = jnp.stack(
        [
            qw,
            (m[..., 2, 1] - m[..., 1, 2]) / (4 * qw + _EPS),
            (m[..., 0, 2] - m[..., 2, 0]) / (4 * qw + _EPS),
            (m[..., 1, 0] - m[..., 0, 1]) / (4 * qw + _EPS),
        ],
        -1,
    )
    c_x = jnp.stack(
        [
            (m[..., 2, 1] - m[..., 1, 2]) / (4 * qx + _EPS),
            qx,
            (m[..., 0, 1] + m[..., 1, 0]) / (4 * qx + _EPS),
            (m[..., 0, 2] + m[..., 2, 0]) / (4 * qx + _EPS),
        ],
        -1,
    )
    c_y = jnp.stack(
        [
            (m[..., 0, 2] - m[..., 2, 0]) / (4 * qy + _EPS),
            (m[..., 0, 1] + m[..., 1, 0]) / (4 * qy + _EPS),
            qy,
            (m[..., 1, 2] + m[..., 2, 1]) / (4 * qy + _EPS),
        ],
        -1,
    )
    c_z = jnp.stack(
        [
            (m[..., 1, 0] - m[..., 0, 1]) / (4 * qz + _EPS),
            (m[..., 0, 2] + m[..., 2, 0]) / (4 * qz + _EPS),
            (m[..., 1, 2] + m[..., 2, 1]) / (4 * qz + _EPS),
            qz,
        ],
        -1,
    )
    best = jnp.argmax(jnp.stack([qw, qx, qy, qz], -1), axis=-1)
    cands = jnp.stack([c_w, c_x, c_y, c_z], -2)
    q = jnp.take_along_axis(cands, best[..., None, None], axis=-2)[..., 0, :]
    q = jnp.where(q[..., :1] < 0, -q, q)
    return quat_normalize(q)


def quat_to_6d(q: Array) -> Array:
    """Tan-norm 6D: first two columns of the rotation matrix, [..., 4] -> [..., 6]."""
    m = quat_to_matrix(q)
    return jnp.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def sixd_to_matrix(d6: Array) -> Array:
    """Gram-Schmidt of the 6D representation [..., 6] -> [..., 3, 3]."""
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = a1 / (jnp.linalg.norm(a1, axis=-1, keepdims=True) + _EPS)
    a2 = a2 - jnp.sum(b1 * a2, -1, keepdims=True) * b1
    b2 = a2 / (jnp.linalg.norm(a2, axis=-1, keepdims=True) + _EPS)
    b3 = jnp.cross(b1, b2)
    return jnp.stack([b1, b2, b3], axis=-1)


_AXES = jnp.eye(3)


def euler_xyz_to_quat(angles: Array) -> Array:
    """Intrinsic x-y-z Euler angles [..., 3] -> quaternion [..., 4].

    ``q = qx(a) * qy(b) * qz(c)``: the rotation of a body with three MuJoCo hinges
    about its local x, y and z axes, listed in that order.
    """
    qx = quat_from_axis_angle(jnp.broadcast_to(_AXES[0], angles.shape), angles[..., 0])
    qy = quat_from_axis_angle(jnp.broadcast_to(_AXES[1], angles.shape), angles[..., 1])
    qz = quat_from_axis_angle(jnp.broadcast_to(_AXES[2], angles.shape), angles[..., 2])
    return quat_mul(quat_mul(qx, qy), qz)


def matrix_to_euler_xyz(m: Array) -> Array:
    """Inverse of :func:`euler_xyz_to_quat` for matrices; b in [-pi/2, pi/2]."""
    # R = Rx(a) Ry(b) Rz(c): R[0,2] = sin b, R[1,2] = -sin a cos b, R[2,2] = cos a cos b,
    # R[0,1] = -cos b sin c, R[0,0] = cos b cos c.
    b = jnp.arcsin(jnp.clip(m[..., 0, 2], -1.0, 1.0))
    a = jnp.arctan2(-m[..., 1, 2], m[..., 2, 2])
    c = jnp.arctan2(-m[..., 0, 1], m[..., 0, 0])
    return jnp.stack([a, b, c], axis=-1)


def quat_slerp(q0: Array, q1: Array, t: Array) -> Array:
    """Spherical interpolation along the shortest arc. t: [...] in [0, 1]."""
    t = t[..., None]
    dot = jnp.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = jnp.where(dot < 0, -q1, q1)
    dot = jnp.abs(dot)
    close = dot > 0.9995
    theta = jnp.arccos(jnp.clip(dot, -1.0, 1.0))
    sin_theta = jnp.sin(theta)
    safe = jnp.where(close, 1.0, sin_theta)
    w0 = jnp.where(close, 1.0 - t, jnp.sin((1.0 - t) * theta) / safe)
    w1 = jnp.where(close, t, jnp.sin(t * theta) / safe)
    return quat_normalize(w0 * q0 + w1 * q1)


def heading_angle(q: Array) -> Array:
    """Yaw (about world z) of the body's forward axis (+x), [..., 4] -> [...] radians."""
    fwd = quat_rotate(q, jnp.broadcast_to(jnp.array([1.0, 0.0, 0.0], q.dtype), q.shape[:-1] + (3,)))
    return jnp.arctan2(fwd[..., 1], fwd[..., 0])


def heading_quat_inv(q: Array) -> Array:
    """Quaternion that removes the heading: rotates world vectors into the heading frame."""
    yaw = heading_angle(q)
    z = jnp.broadcast_to(_AXES[2], q.shape[:-1] + (3,))
    return quat_from_axis_angle(z, -yaw)


def angular_velocity(q0: Array, q1: Array, dt: float) -> Array:
    """World-frame angular velocity that takes ``q0`` to ``q1`` in ``dt`` seconds."""
    dq = quat_mul(q1, quat_conj(q0))
    return quat_to_rotvec(dq) / dt
