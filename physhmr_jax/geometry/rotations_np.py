"""Rotation helpers in numpy, for the host-side motion code (procedural, BVH and AMASS).

The JAX twins for the compiled path are in :mod:`physhmr_jax.geometry.rotations`; the
conventions are the same:
  * quaternions are ``(w, x, y, z)`` as in MuJoCo, unit norm, active rotation;
  * matrices act on column vectors (``R @ v``) and broadcast over leading dimensions;
  * ``euler_xyz`` is the intrinsic x-then-y-then-z sequence, ``R = Rx(a) Ry(b) Rz(c)``: a
    body's three MuJoCo hinges listed x, y, z (scipy's uppercase ``"XYZ"``). Other orders
    are products of :func:`axis_rotation` where they are used: a BVH channel list
    ``Zrotation Yrotation Xrotation`` is ``Rz @ Ry @ Rx``, the procedural pelvis
    yaw-pitch-roll is ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``;
  * angles are radians.

Per-frame conversions are closed-form numpy. The ``continuous_*`` functions, for captured
sequences, extract with scipy, which stays exact for rotations about a coordinate axis
and near ``b = +-pi/2``, where the square roots and arcsines of the closed forms lose
digits.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

# A y-up frame facing +z with left +x (BVH, SMPL's canonical body) -> ours (z up, facing
# +x, left +y): ours = (z, x, y), a rotation.
Y_UP_TO_OURS = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

_MIN_NORM = 1e-9  # below this a cross product gives no rotation axis


def axis_rotation(axis: int, angle_rad) -> np.ndarray:
    """Rotation about the x, y or z axis (``axis`` = 0, 1, 2): angles [...] -> [..., 3, 3]."""
    angle = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m = np.zeros(angle.shape + (3, 3))
    m[..., axis, axis] = 1.0
    m[..., i, i], m[..., i, j], m[..., j, i], m[..., j, j] = c, -s, s, c
    return m


def euler_xyz_to_matrix(angles_rad: np.ndarray) -> np.ndarray:
    """Intrinsic x-y-z Euler angles [..., 3] -> ``Rx Ry Rz`` [..., 3, 3]."""
    return (
        axis_rotation(0, angles_rad[..., 0])
        @ axis_rotation(1, angles_rad[..., 1])
        @ axis_rotation(2, angles_rad[..., 2])
    )


def matrix_to_euler_xyz(m: np.ndarray) -> np.ndarray:
    """Inverse of :func:`euler_xyz_to_matrix`: [..., 3, 3] -> [..., 3], the middle angle in [-pi/2, pi/2]."""
    # R = Rx(a) Ry(b) Rz(c): R[0,2] = sin b, R[1,2] = -sin a cos b, R[2,2] = cos a cos b,
    # R[0,1] = -cos b sin c, R[0,0] = cos b cos c.
    b = np.arcsin(np.clip(m[..., 0, 2], -1.0, 1.0))
    a = np.arctan2(-m[..., 1, 2], m[..., 2, 2])
    c = np.arctan2(-m[..., 0, 1], m[..., 0, 0])
    return np.stack([a, b, c], axis=-1)


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """[..., 3, 3] -> [..., 4] wxyz with w >= 0.

    Each component's magnitude from the diagonal, its sign from the off-diagonal
    differences (relative to w). A component near zero carries an error up to about
    ``sqrt(machine epsilon)`` = 1e-8: smooth motion tolerates it; exact axis-aligned
    rotations want :func:`continuous_quat_wxyz`.
    """
    w = np.sqrt(np.maximum(0.0, 1.0 + m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2])) / 2
    x = np.sqrt(np.maximum(0.0, 1.0 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2])) / 2
    y = np.sqrt(np.maximum(0.0, 1.0 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2])) / 2
    z = np.sqrt(np.maximum(0.0, 1.0 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2])) / 2
    x = np.copysign(x, m[..., 2, 1] - m[..., 1, 2])
    y = np.copysign(y, m[..., 0, 2] - m[..., 2, 0])
    z = np.copysign(z, m[..., 1, 0] - m[..., 0, 1])
    q = np.stack([w, x, y, z], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Axis-angle vectors [..., 3] (axis times angle) -> [..., 3, 3]."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    return Rotation.from_rotvec(rotvec.reshape(-1, 3)).as_matrix().reshape(rotvec.shape[:-1] + (3, 3))


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking the unit vector ``a`` [3] to the unit vectors ``b`` [..., 3].

    Rodrigues' formula about ``a x b``; [..., 3, 3]. Opposite vectors have no unique
    answer (the result is then the identity).
    """
    a = np.broadcast_to(a, b.shape)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    cos = np.sum(a * b, axis=-1)
    axis = axis / np.maximum(sin, _MIN_NORM)[..., None]
    k = np.zeros(b.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -axis[..., 2], axis[..., 1], -axis[..., 0]
    k = k - np.swapaxes(k, -1, -2)
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + sin[..., None, None] * k + (1 - cos)[..., None, None] * (k @ k)


def wrap_angle(angle_rad) -> np.ndarray:
    """Angles into [-pi, pi)."""
    return (np.asarray(angle_rad) + np.pi) % (2 * np.pi) - np.pi


def continuous_euler_xyz(rotations: np.ndarray) -> np.ndarray:
    """[T, N, 3, 3] rotation matrices -> [T, N, 3] intrinsic x-y-z Euler angles, continuous in T.

    Each rotation has two Euler triples, (a, b, c) and (a + pi, pi - b, c + pi); per frame
    the one nearest the previous frame's angles (modulo 2 pi) is kept, starting near zero.
    So a 120 deg knee flexion stays (0, 120, 0) rather than (180, 60, 180), and the angles
    unwrap over time.
    """
    t, n = rotations.shape[:2]
    primary = Rotation.from_matrix(rotations.reshape(-1, 3, 3)).as_euler("XYZ").reshape(t, n, 3)
    alternate = wrap_angle(primary * np.array([1.0, -1.0, 1.0]) + np.pi)
    out = np.empty_like(primary)
    prev = np.zeros((n, 3))
    for i in range(t):
        cands = prev + wrap_angle(np.stack([primary[i], alternate[i]]) - prev)  # [2, N, 3]
        dist = np.sum((cands - prev) ** 2, axis=-1)  # [2, N]
        prev = np.where((dist[1] < dist[0])[:, None], cands[1], cands[0])
        out[i] = prev
    return out


def continuous_quat_wxyz(rotations: np.ndarray) -> np.ndarray:
    """[T, 3, 3] rotation matrices -> [T, 4] wxyz quaternions without sign flips between
    frames (w >= 0 at the first frame)."""
    xyzw = Rotation.from_matrix(rotations).as_quat()
    wxyz = np.concatenate([xyzw[:, 3:], xyzw[:, :3]], axis=-1)
    first = 1.0 if wxyz[0, 0] >= 0.0 else -1.0
    # sign(0) would zero every later frame; the offset keeps the sign where two frames are
    # 180 deg apart (dot = 0).
    flips = np.concatenate([[first], np.sign(np.sum(wxyz[1:] * wxyz[:-1], axis=-1) + 1e-12)])
    return wxyz * np.cumprod(flips)[:, None]


__all__ = [
    "Y_UP_TO_OURS",
    "axis_rotation",
    "continuous_euler_xyz",
    "continuous_quat_wxyz",
    "euler_xyz_to_matrix",
    "matrix_to_euler_xyz",
    "matrix_to_quat",
    "rotation_between",
    "rotvec_to_matrix",
    "wrap_angle",
]
