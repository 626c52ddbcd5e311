"""Joint-position errors and tracking success of human motion: pose accuracy, world-frame
accuracy, smoothness and PHC's success rate. Physical plausibility (foot sliding,
penetration, floating, foot height) lives in :mod:`physhmr_jax.eval.physical`;
:func:`physhmr_jax.eval.summary.summarize` reports both in the field's units.

What each metric follows:
  * MPJPE (root-relative), PA-MPJPE (per-frame similarity Procrustes), G-MPJPE (global,
    unaligned), velocity / acceleration error and the success rate follow PHC/SMPLSim's
    ``compute_metrics_lite`` (``mpjpe_l``, ``mpjpe_pa``, ``mpjpe_g``, ``vel_dist``,
    ``accel_dist``; a sequence fails once the mean body distance exceeds 0.5 m);
  * WA-MPJPE and W-MPJPE follow WHAM / GVHMR's ``compute_global_metrics``: the sequence is
    cut into windows of 100 frames (the last one may be shorter); WA aligns each window
    with one Umeyama similarity fit over all its frames, W ("W2" in GVHMR) fits the same
    similarity to the window's first two frames only and applies it to the whole window.

Conventions: world frame z up, metres. Joint arrays are ``[..., T, J, 3]``: any leading
batch dims, T frames, J joints, joint 0 the pelvis (root). Every function here is pure
``jax.numpy`` without Python control flow on values, so it can be jitted and vmapped;
window length and flags are static Python values. Functions return SI units: lengths in
metres (names end in ``_m``); per-frame differences are per frame, not per second (the
field reports them that way). Only ``summarize`` converts to the millimetres the field
reports (``M_TO_MM``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array

# WHAM / GVHMR evaluate world-frame errors on 100-frame windows.
WINDOW_FRAMES = 100
# PHC counts a failure once the mean body distance exceeds 0.5 m.
SUCCESS_THRESHOLD_M = 0.5
M_TO_MM = 1000.0

# Guards divisions by a point spread or a count that may be zero (degenerate input,
# padded windows); keeps results finite instead of NaN.
_EPS = 1e-12


def _check_same_shape(pred: Array, gt: Array) -> None:
    # Shapes are static under jit, so this check costs nothing at run time.
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")


def _point_error_m(pred: Array, gt: Array) -> Array:
    """Euclidean distance per point. [..., N, 3] -> [..., N]."""
    return jnp.linalg.norm(pred - gt, axis=-1)


def procrustes_transform(
    pred: Array,
    gt: Array,
    *,
    weights: Array | None = None,
    with_scale: bool = True,
) -> tuple[Array, Array, Array]:
    """Similarity (or rigid) transform that best maps ``pred`` onto ``gt`` (Umeyama 1991).

    Minimises ``sum_n w_n |gt_n - (s R pred_n + t)|^2`` over rotations R (det +1: the
    reflection a plain SVD can return is removed by flipping the sign of the smallest
    singular direction), a scale s > 0 (or s = 1 when ``with_scale`` is False), and t.

    Args:
      pred: [..., N, 3] points to move.
      gt: [..., N, 3] target points, same order.
      weights: optional [..., N] non-negative weights (0 drops a point, e.g. padding).
      with_scale: fit a uniform scale (similarity) or keep s = 1 (rigid).

    Returns:
      scale [...], R [..., 3, 3], t [..., 3] such that ``s * R @ p + t`` is aligned.
    """
    _check_same_shape(pred, gt)
    if weights is None:
        weights = jnp.ones(pred.shape[:-1], dtype=pred.dtype)
    w = weights.astype(pred.dtype)[..., None]  # [..., N, 1]
    w_sum = jnp.maximum(jnp.sum(w, axis=-2), _EPS)  # [..., 1]
    mu_pred = jnp.sum(w * pred, axis=-2) / w_sum  # [..., 3]
    mu_gt = jnp.sum(w * gt, axis=-2) / w_sum
    p0 = pred - mu_pred[..., None, :]
    g0 = gt - mu_gt[..., None, :]
    # Cross-covariance K = sum_n w_n g_n p_n^T; the optimal R maximises trace(R K^T).
    cov = jnp.einsum("...ni,...nj->...ij", w * g0, p0)  # [..., 3, 3]
    u, sing, vh = jnp.linalg.svd(cov)
    det = jnp.linalg.det(u) * jnp.linalg.det(vh)
    # where, not sign: sign(0) = 0 would zero a row of R for coplanar point sets.
    flip = jnp.where(det < 0, -1.0, 1.0).astype(pred.dtype)  # [...]
    d = jnp.stack([jnp.ones_like(flip), jnp.ones_like(flip), flip], axis=-1)  # [..., 3]
    rot = jnp.einsum("...ij,...j,...jk->...ik", u, d, vh)
    if with_scale:
        var_pred = jnp.sum(w * p0**2, axis=(-2, -1))  # [...]
        scale = jnp.sum(sing * d, axis=-1) / jnp.maximum(var_pred, _EPS)
    else:
        scale = jnp.ones(pred.shape[:-2], dtype=pred.dtype)
    t = mu_gt - scale[..., None] * jnp.einsum("...ij,...j->...i", rot, mu_pred)
    return scale, rot, t


def _apply_transform(scale: Array, rot: Array, t: Array, points: Array) -> Array:
    """``s R p + t`` for points [..., N, 3] with scale [...], rot [..., 3, 3], t [..., 3]."""
    return scale[..., None, None] * jnp.einsum("...ij,...nj->...ni", rot, points) + t[..., None, :]


def procrustes_align(
    pred: Array,
    gt: Array,
    *,
    weights: Array | None = None,
    with_scale: bool = True,
) -> Array:
    """``pred`` moved by the similarity transform that best fits it to ``gt``.

    Args:
      pred, gt: [..., N, 3] point sets (e.g. one frame's joints [..., J, 3]).
      weights: optional [..., N] point weights (see ``procrustes_transform``).
      with_scale: similarity (True) or rigid (False) alignment.

    Returns:
      [..., N, 3] aligned prediction.
    """
    scale, rot, t = procrustes_transform(pred, gt, weights=weights, with_scale=with_scale)
    return _apply_transform(scale, rot, t, pred)


def mpjpe_m(pred: Array, gt: Array) -> Array:
    """Root-relative mean per-joint position error (PHC ``mpjpe_l``).

    Joint 0 is subtracted from every joint of its own frame, then the joint distances
    are averaged: ``mean_j |(p_j - p_0) - (g_j - g_0)|``.

    Args:
      pred, gt: [..., T, J, 3] joint positions (metres).

    Returns:
      [..., T] error per frame (metres).
    """
    _check_same_shape(pred, gt)
    pred_rel = pred - pred[..., :1, :]
    gt_rel = gt - gt[..., :1, :]
    return jnp.mean(_point_error_m(pred_rel, gt_rel), axis=-1)


def pa_mpjpe_m(pred: Array, gt: Array) -> Array:
    """Procrustes-aligned MPJPE: each frame's joints are similarity-aligned to ground truth.

    Args:
      pred, gt: [..., T, J, 3].

    Returns:
      [..., T] error per frame (metres).
    """
    _check_same_shape(pred, gt)
    return jnp.mean(_point_error_m(procrustes_align(pred, gt), gt), axis=-1)


def g_mpjpe_m(pred: Array, gt: Array) -> Array:
    """Global MPJPE: joint distances in the world, no alignment (PHC ``mpjpe_g``).

    Args:
      pred, gt: [..., T, J, 3].

    Returns:
      [..., T] error per frame (metres); also the "mean body distance" of PHC.
    """
    _check_same_shape(pred, gt)
    return jnp.mean(_point_error_m(pred, gt), axis=-1)


def _to_windows(x: Array, window_frames: int) -> tuple[Array, Array]:
    """Cuts [..., T, J, 3] into [..., W, L, J, 3] windows of L frames, zero-padding the tail.

    Returns the windows and a [W, L] mask of real (not padded) frames.
    """
    num_frames = x.shape[-3]
    num_windows = math.ceil(num_frames / window_frames)
    pad = num_windows * window_frames - num_frames
    widths = [(0, 0)] * x.ndim
    widths[-3] = (0, pad)
    x = jnp.pad(x, widths)
    x = x.reshape(*x.shape[:-3], num_windows, window_frames, *x.shape[-2:])
    frame = jnp.arange(num_windows * window_frames).reshape(num_windows, window_frames)
    return x, frame < num_frames


def _windowed_error_m(pred: Array, gt: Array, *, window_frames: int, fit_frames: int | None, with_scale: bool) -> Array:
    """Per-frame error after one alignment per window, fitted on its first ``fit_frames``
    real frames (all of them when None). [..., T, J, 3] -> [..., T]."""
    _check_same_shape(pred, gt)
    if window_frames < 1:
        raise ValueError(f"window_frames must be >= 1, got {window_frames}")
    num_frames, num_joints = pred.shape[-3], pred.shape[-2]
    pred_w, valid = _to_windows(pred, window_frames)  # [..., W, L, J, 3], [W, L]
    gt_w, _ = _to_windows(gt, window_frames)
    fit = valid
    if fit_frames is not None:
        fit = fit & (jnp.arange(window_frames) < fit_frames)[None, :]
    # Padding and frames outside the fit get weight 0, so every window has fixed shape.
    weights = jnp.broadcast_to(fit[..., None], (*fit.shape, num_joints))
    weights = jnp.broadcast_to(weights, pred_w.shape[:-1])
    flat = (*pred_w.shape[:-3], window_frames * num_joints, 3)
    scale, rot, t = procrustes_transform(
        pred_w.reshape(flat),
        gt_w.reshape(flat),
        weights=weights.reshape(flat[:-1]),
        with_scale=with_scale,
    )
    aligned = _apply_transform(scale, rot, t, pred_w.reshape(flat)).reshape(pred_w.shape)
    err = jnp.mean(_point_error_m(aligned, gt_w), axis=-1)  # [..., W, L]
    return err.reshape(*err.shape[:-2], -1)[..., :num_frames]


def wa_mpjpe_m(pred: Array, gt: Array, *, window_frames: int = WINDOW_FRAMES) -> Array:
    """World-aligned MPJPE (WHAM / GVHMR "WA-MPJPE100").

    The sequence is cut into consecutive windows of ``window_frames`` frames (the last
    window holds the remaining frames, possibly fewer); in each window one similarity
    transform (rotation, uniform scale, translation) is fitted to all joints of all its
    frames jointly (window*J points) and applied to the window; then the per-frame
    global joint error is taken. Implemented with zero padding and zero weights so shapes
    stay fixed; the padded frames are dropped from the output.

    Args:
      pred, gt: [..., T, J, 3] world joint positions.
      window_frames: window length in frames (static).

    Returns:
      [..., T] error per frame (metres). WHAM's number is the mean over all frames.
    """
    return _windowed_error_m(pred, gt, window_frames=window_frames, fit_frames=None, with_scale=True)


def w_mpjpe_m(
    pred: Array,
    gt: Array,
    *,
    window_frames: int = WINDOW_FRAMES,
    with_scale: bool = True,
) -> Array:
    """World MPJPE with first-two-frame alignment (WHAM "W-MPJPE100", GVHMR "W2-MPJPE").

    Same windows as ``wa_mpjpe_m``, but each window's transform is fitted only to the
    joints of the window's first two frames (2*J points; J points if the last window has
    a single frame) and then applied to every frame of the window, so drift after the
    start of the window is not aligned away. WHAM / GVHMR's code (``first_align_joints``
    -> ``align_pcl`` with its default ``fixed_scale=False``) fits a similarity transform,
    scale included; ``with_scale=False`` gives the rigid variant.

    Args:
      pred, gt: [..., T, J, 3] world joint positions.
      window_frames: window length in frames (static).
      with_scale: fit a uniform scale (WHAM's default) or a rigid transform.

    Returns:
      [..., T] error per frame (metres).
    """
    return _windowed_error_m(pred, gt, window_frames=window_frames, fit_frames=2, with_scale=with_scale)


def first_frame_aligned_mpjpe_m(pred: Array, gt: Array, *, window_frames: int = WINDOW_FRAMES) -> Array:
    """PhysHMR's WA-MPJPE: the same windows as ``wa_mpjpe_m``, each moved by the rigid
    transform (rotation + translation, no scale) fitted to its first frame's joints.

    Args:
      pred, gt: [..., T, J, 3] world joint positions.
      window_frames: window length in frames (static).

    Returns:
      [..., T] error per frame (metres).
    """
    return _windowed_error_m(pred, gt, window_frames=window_frames, fit_frames=1, with_scale=False)


def vel_error_m_per_frame(pred: Array, gt: Array) -> Array:
    """Velocity error (PHC ``vel_dist``): ``mean_j |Δp_j - Δg_j|`` with ``Δx_t = x_{t+1} - x_t``.

    Args:
      pred, gt: [..., T, J, 3] positions (PHC uses global, unaligned ones).

    Returns:
      [..., T-1] error per frame step in metres per frame (multiply by fps for m/s).
    """
    _check_same_shape(pred, gt)
    dp = pred[..., 1:, :, :] - pred[..., :-1, :, :]
    dg = gt[..., 1:, :, :] - gt[..., :-1, :, :]
    return jnp.mean(_point_error_m(dp, dg), axis=-1)


def accel_error_m_per_frame2(pred: Array, gt: Array) -> Array:
    """Acceleration error (WHAM ``compute_error_accel``, PHC ``accel_dist``).

    ``mean_j |a(p)_j - a(g)_j|`` with the second difference ``a(x)_t = x_t - 2 x_{t+1} +
    x_{t+2}``, i.e. the acceleration at frame t+1.

    Args:
      pred, gt: [..., T, J, 3] positions.

    Returns:
      [..., T-2] error in metres per frame^2 (multiply by fps^2 for m/s^2).
    """
    _check_same_shape(pred, gt)

    def accel(x: Array) -> Array:
        return x[..., :-2, :, :] - 2.0 * x[..., 1:-1, :, :] + x[..., 2:, :, :]

    return jnp.mean(_point_error_m(accel(pred), accel(gt)), axis=-1)


def tracking_success(pred: Array, gt: Array, *, threshold_m: float = SUCCESS_THRESHOLD_M) -> tuple[Array, Array]:
    """PHC's success criterion: a sequence succeeds when at every frame the mean body
    distance (global, unaligned mean joint distance) is at most ``threshold_m``.

    Args:
      pred, gt: [..., T, J, 3].

    Returns:
      success [...] bool, mean_body_distance_m [..., T].
    """
    dist = g_mpjpe_m(pred, gt)
    return jnp.all(dist <= threshold_m, axis=-1), dist


__all__ = [
    "M_TO_MM",
    "SUCCESS_THRESHOLD_M",
    "WINDOW_FRAMES",
    "procrustes_transform",
    "procrustes_align",
    "mpjpe_m",
    "pa_mpjpe_m",
    "g_mpjpe_m",
    "wa_mpjpe_m",
    "w_mpjpe_m",
    "first_frame_aligned_mpjpe_m",
    "vel_error_m_per_frame",
    "accel_error_m_per_frame2",
    "tracking_success",
]
