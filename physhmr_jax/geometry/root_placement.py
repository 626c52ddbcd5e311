"""Root placement: where a root-relative pose must sit in the camera to match its 2D keypoints.

A root-relative pose (``P_j`` in metres, camera frame, OpenCV axes, row 0 the root) is
moved by a camera-frame root position ``r`` so that each joint ``r + P_j`` projects onto its
keypoint ``(u_j, v_j)``. With normalised image coordinates ``m_j = K^-1 [u_j, v_j, 1] =
(x_j, y_j, 1)`` (camera.py's ``normalized_coords``, here in closed form on the host), the
projection of joint j agrees with its keypoint when ``(r + P_j)_x = x_j (r + P_j)_z`` (same
in y).

On the root's ray. When the root's own keypoint is confident the root is ``z m_0`` and the
residual of joint j is ``a_j + z b_j`` with ``a_j = P_jxy - m_j P_jz`` and
``b_j = m_0 - m_j`` (per image axis). Weighted by confidence, the least-squares depth is
``z = -sum w a b / sum w b^2``: the ratio of the skeleton's 3D extent to its 2D extent about
the root, exact for a perfect pose (a skeleton 10% too big lands 10% farther).

Free translation. Without a confident root keypoint the root is the 3-unknown weighted
least-squares solution of the same equations, rows ``[1, 0, -x_j] r = x_j P_jz - P_jx`` and
``[0, 1, -y_j] r = y_j P_jz - P_jy`` (SPIN's ``estimate_translation``).

Host-side numpy, float64 inside. Used by the kinematic baseline
(:mod:`physhmr_jax.vision.encoder_features`).
"""

from __future__ import annotations

import numpy as np

# Root placement needs the 2D spread of at least this much weighted evidence.
_MIN_SPREAD = 1e-8


def _normalized(K: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """K^-1 [u, v, 1] -> (x, y) for uv [..., 2] (closed form, camera.py's normalized_coords)."""
    fx, s, cx, fy, cy = K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]
    y = (uv[..., 1] - cy) / fy
    x = (uv[..., 0] - cx - s * y) / fx
    return np.stack([x, y], axis=-1)


def place_root(
    joints_rel_cam: np.ndarray, kp2d: np.ndarray, conf: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame root positions that make root-relative joints reproject onto keypoints.

    Row 0 is the pelvis. Where its keypoint is confident the root lies on its ray at the
    least-squares depth ``z = -sum w a b / sum w b^2`` (module docstring); elsewhere it is
    the unconstrained least-squares translation. Frames with too little evidence take the
    root of the nearest frame that has it.

    Args:
      joints_rel_cam: [T, J, 3] root-relative joints (metres, camera frame).
      kp2d: [T, J, 2] their keypoints (pixels); conf: [T, J] weights (0 = missing).
      K: [3, 3].
    Returns:
      root_cam [T, 3] (metres) and ``solved`` [T] bool (False: copied from a neighbour,
      or NaN when no frame could be solved).
    """
    P = np.asarray(joints_rel_cam, np.float64)
    w = np.where(np.asarray(conf) > 0, np.asarray(conf, np.float64), 0.0)
    m = _normalized(np.asarray(K, np.float64), np.asarray(kp2d, np.float64))  # [T, J, 2]
    T = P.shape[0]
    # On the pelvis ray: residual_j = a_j + z b_j per image axis.
    a = P[..., :2] - m * P[..., 2:3]  # [T, J, 2]
    b = m[:, :1] - m  # [T, J, 2]
    num = -np.einsum("tj,tjk,tjk->t", w, a, b)
    den = np.einsum("tj,tjk,tjk->t", w, b, b)
    on_ray = (w[:, 0] > 0) & (den > _MIN_SPREAD)
    z = num / np.where(on_ray, den, 1.0)
    root = np.concatenate([m[:, 0], np.ones((T, 1))], axis=-1) * z[:, None]
    # Free translation r: rows [1, 0, -x_j] r = x_j P_jz - P_jx and [0, 1, -y_j] r = y_j P_jz - P_jy.
    A = np.zeros((T, P.shape[1], 2, 3))
    A[..., 0, 0] = 1.0
    A[..., 1, 1] = 1.0
    A[..., :, 2] = -m
    rhs = -a  # [T, J, 2]
    AtA = np.einsum("tj,tjki,tjkl->til", w, A, A)
    Atb = np.einsum("tj,tjki,tjk->ti", w, A, rhs)
    enough = (np.count_nonzero(w > 0, axis=1) >= 2) & (np.abs(np.linalg.det(AtA)) > _MIN_SPREAD)
    safe = np.where(enough[:, None, None], AtA, np.eye(3))
    free = np.linalg.solve(safe, np.where(enough[:, None], Atb, 0.0)[..., None])[..., 0]
    root = np.where(on_ray[:, None], root, free)
    solved = on_ray | enough
    have = np.flatnonzero(solved)
    if have.size == 0:
        return np.full((T, 3), np.nan, np.float32), solved
    nearest = have[np.abs(np.arange(T)[:, None] - have[None, :]).argmin(axis=1)]
    return root[nearest].astype(np.float32), solved
