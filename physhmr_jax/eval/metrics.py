"""Evaluation metrics for human motion: pose accuracy, world-frame accuracy, smoothness,
physical plausibility and tracking success (DESIGN.md, "Evaluation").

What each metric follows:
  * MPJPE (root-relative), PA-MPJPE (per-frame similarity Procrustes), G-MPJPE (global,
    unaligned), velocity / acceleration error and the success rate follow PHC/SMPLSim's
    ``compute_metrics_lite`` (``mpjpe_l``, ``mpjpe_pa``, ``mpjpe_g``, ``vel_dist``,
    ``accel_dist``; a sequence fails once the mean body distance exceeds 0.5 m);
  * WA-MPJPE and W-MPJPE follow WHAM / GVHMR's ``compute_global_metrics``: the sequence is
    cut into windows of 100 frames (the last one may be shorter); WA aligns each window
    with one Umeyama similarity fit over all its frames, W ("W2" in GVHMR) fits the same
    similarity to the window's first two frames only and applies it to the whole window;
  * foot sliding in ``summarize`` follows WHAM / GVHMR's ``compute_foot_sliding``: a foot
    point is in contact for a step when its ground-truth displacement is < 1 cm/frame,
    and the error is the predicted displacement over those steps (we use foot joints
    where WHAM uses four SMPL foot vertices, which we do not have);
  * ground penetration, floating, foot height std and the height-contact foot sliding
    are this project's definitions (documented on each function), computed from the
    motion alone, as physics-based papers do.

Conventions: world frame z up, metres. Joint arrays are ``[..., T, J, 3]``: any leading
batch dims, T frames, J joints, joint 0 the pelvis (root). Every function here is pure
``jax.numpy`` without Python control flow on values, so it can be jitted and vmapped;
window length, joint indices and flags are static Python values. Functions return SI
units: lengths in metres (names end in ``_m``); per-frame differences are per frame, not
per second (the field reports them that way). Only ``summarize`` converts to the
millimetres the field reports.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import Array

# WHAM / GVHMR evaluate world-frame errors on 100-frame windows.
WINDOW_FRAMES = 100
# PHC counts a failure once the mean body distance exceeds 0.5 m.
SUCCESS_THRESHOLD_M = 0.5
# WHAM's ground-truth contact label: a foot point moving less than 1 cm in one frame.
CONTACT_DISPLACEMENT_M = 0.01
# A foot point within 5 cm of its standing height counts as touching the floor: loose
# enough for flat-foot noise, tight enough that a swing foot (10-20 cm up) does not.
CONTACT_HEIGHT_M = 0.05
M_TO_MM = 1000.0

# Guards divisions by a point spread or a count that may be zero (degenerate input,
# padded windows, no contact); keeps results finite instead of NaN.
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


def foot_clearance_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> Array:
    """Height of each foot point above where it would rest on the floor.

    ``z - floor_z_m - foot_rest_height_m``: 0 when the point is where it sits on a
    standing foot, negative when below (penetrating). ``foot_rest_height_m`` (scalar or
    [F]) is the height of each point above the sole when standing flat: 0 for sole points
    or contact sites; for joint centres (ankle ~0.07 m, toe ~0.02-0.03 m on our humanoid)
    pass their standing heights, or the metrics below treat a flat foot as lifted.

    Args:
      joints: [..., T, J, 3].
      foot_indices: F joint indices (static).

    Returns:
      [..., T, F] clearance in metres.
    """
    z = joints[..., jnp.asarray(foot_indices), 2]
    return z - floor_z_m - jnp.asarray(foot_rest_height_m, dtype=joints.dtype)


def contact_steps_from_frames(contact: Array) -> Array:
    """A foot is in contact for the step t -> t+1 when it is in contact at both frames.

    contact: [..., T, F] bool -> [..., T-1, F] bool.
    """
    return contact[..., :-1, :] & contact[..., 1:, :]


def contact_steps_from_displacement(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    threshold_m: float = CONTACT_DISPLACEMENT_M,
) -> Array:
    """WHAM's contact label: a foot point whose 3D displacement in one step is < threshold.

    Args:
      joints: [..., T, J, 3] (WHAM labels from the ground truth).
      foot_indices: F joint indices.

    Returns:
      [..., T-1, F] bool, contact during step t -> t+1.
    """
    return foot_step_displacement_m(joints, foot_indices, horizontal=False) < threshold_m


def foot_step_displacement_m(joints: Array, foot_indices: Sequence[int], *, horizontal: bool = True) -> Array:
    """Distance each foot point moves per frame step, in xy only or in 3D.

    joints: [..., T, J, 3] -> [..., T-1, F] metres per frame.
    """
    feet = joints[..., jnp.asarray(foot_indices), :]
    step = feet[..., 1:, :, :] - feet[..., :-1, :, :]
    if horizontal:
        step = step[..., :2]
    return jnp.linalg.norm(step, axis=-1)


def foot_sliding_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    contact_steps: Array | None = None,
    contact_height_m: float = CONTACT_HEIGHT_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
    horizontal: bool = True,
) -> tuple[Array, Array]:
    """Foot sliding: how far feet move per frame while they are in contact.

    A foot point is in contact for step t -> t+1 when ``contact_steps`` says so, or, when
    it is None, when its clearance (``foot_clearance_m``) is below ``contact_height_m`` at
    both frames. Its sliding for that step is its horizontal (xy) displacement, or 3D when
    ``horizontal`` is False (WHAM's choice). The mean is over contact instances (foot
    points x steps), as WHAM concatenates them; 0, not NaN, when there is none.

    Args:
      joints: [..., T, J, 3].
      foot_indices: F joint indices (static), e.g. ``skeleton.FOOT_BODIES``.
      contact_steps: optional [..., T-1, F] bool contact per step (e.g. from
        ``contact_steps_from_displacement(gt, ...)`` or ``contact_steps_from_frames``).

    Returns:
      mean_m [...]: mean sliding per contact instance, metres per frame;
      per_step_m [..., T-1]: mean over the feet in contact at each step (0 if none).
    """
    disp = foot_step_displacement_m(joints, foot_indices, horizontal=horizontal)
    if contact_steps is None:
        clearance = foot_clearance_m(joints, foot_indices, floor_z_m=floor_z_m, foot_rest_height_m=foot_rest_height_m)
        contact_steps = contact_steps_from_frames(clearance < contact_height_m)
    mask = jnp.broadcast_to(contact_steps, disp.shape).astype(disp.dtype)
    per_step = jnp.sum(disp * mask, axis=-1) / jnp.maximum(jnp.sum(mask, axis=-1), 1.0)
    mean = jnp.sum(disp * mask, axis=(-2, -1)) / jnp.maximum(jnp.sum(mask, axis=(-2, -1)), 1.0)
    return mean, per_step


def _lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m) -> Array:
    clearance = foot_clearance_m(joints, foot_indices, floor_z_m=floor_z_m, foot_rest_height_m=foot_rest_height_m)
    return jnp.min(clearance, axis=-1)  # [..., T]


def ground_penetration_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> tuple[Array, Array]:
    """Ground penetration: how deep the lowest foot point is below the floor.

    Per frame ``max(0, -min_f clearance_f)`` (see ``foot_clearance_m``); the mean is over
    all frames (frames above ground count as 0). ``per_frame_m.max(-1)`` is the max variant.

    Args:
      joints: [..., T, J, 3]; foot_indices: F joint indices.

    Returns:
      mean_m [...], per_frame_m [..., T] (metres).
    """
    per_frame = jnp.maximum(0.0, -_lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m))
    return jnp.mean(per_frame, axis=-1), per_frame


def floating_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    float_threshold_m: float = CONTACT_HEIGHT_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> tuple[Array, Array]:
    """Floating: how far the lowest foot point is above the contact band.

    Per frame ``max(0, min_f clearance_f - float_threshold_m)``; mean over all frames.
    Flight phases of jumps and runs count too, so compare against the ground truth's
    own value on such motions. Pass every joint index as ``foot_indices`` to use the
    lowest body point instead of the lowest foot point.

    Args:
      joints: [..., T, J, 3]; foot_indices: F joint indices.

    Returns:
      mean_m [...], per_frame_m [..., T] (metres).
    """
    lowest = _lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m)
    per_frame = jnp.maximum(0.0, lowest - float_threshold_m)
    return jnp.mean(per_frame, axis=-1), per_frame


def foot_height_std_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    contact: Array | None = None,
    contact_height_m: float = CONTACT_HEIGHT_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> Array:
    """Standard deviation of the lowest foot point's clearance over contact frames.

    This is what PhysHMR reports as "height variance" (in mm, hence a standard deviation,
    not a variance): on a flat floor the supporting foot should stay at one height. A
    frame counts when ``contact`` [..., T] says so, or, when None, when the lowest
    clearance is below ``contact_height_m``. 0 when no frame is in contact.

    Args:
      joints: [..., T, J, 3]; foot_indices: F joint indices.

    Returns:
      [...] standard deviation in metres.
    """
    lowest = _lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m)
    if contact is None:
        contact = lowest < contact_height_m
    mask = jnp.broadcast_to(contact, lowest.shape).astype(lowest.dtype)
    count = jnp.maximum(jnp.sum(mask, axis=-1), 1.0)
    mean = jnp.sum(lowest * mask, axis=-1) / count
    var = jnp.sum(mask * (lowest - mean[..., None]) ** 2, axis=-1) / count
    return jnp.sqrt(var)


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


@functools.partial(
    jax.jit,
    static_argnames=("foot_indices", "window_frames", "contact_height_m", "contact_displacement_m",
                     "success_threshold_m", "floor_z_m"),
)  # fmt: skip
def _summary_means(
    pred: Array,
    gt: Array,
    foot_rest_height_m: Array,
    *,
    foot_indices: tuple[int, ...],
    window_frames: int,
    contact_height_m: float,
    contact_displacement_m: float,
    success_threshold_m: float,
    floor_z_m: float,
) -> dict[str, Array]:
    """The pooled means behind ``summarize``, in SI units per frame (one compiled call)."""
    ground = dict(floor_z_m=floor_z_m, foot_rest_height_m=foot_rest_height_m)
    # WHAM pools foot sliding over contact instances of the whole set, not per sequence.
    gt_contact = contact_steps_from_displacement(gt, foot_indices, threshold_m=contact_displacement_m)
    pred_disp = foot_step_displacement_m(pred, foot_indices, horizontal=False)
    n_contact = jnp.sum(gt_contact)
    sliding_wham = jnp.sum(jnp.where(gt_contact, pred_disp, 0.0)) / jnp.maximum(n_contact, 1)
    clearance = foot_clearance_m(pred, foot_indices, **ground)
    self_contact = contact_steps_from_frames(clearance < contact_height_m)
    pred_disp_xy = foot_step_displacement_m(pred, foot_indices, horizontal=True)
    sliding_xy = jnp.sum(jnp.where(self_contact, pred_disp_xy, 0.0)) / jnp.maximum(jnp.sum(self_contact), 1)
    success, _ = tracking_success(pred, gt, threshold_m=success_threshold_m)
    return {
        "mpjpe": jnp.mean(mpjpe_m(pred, gt)),
        "pa_mpjpe": jnp.mean(pa_mpjpe_m(pred, gt)),
        "g_mpjpe": jnp.mean(g_mpjpe_m(pred, gt)),
        "wa_mpjpe": jnp.mean(wa_mpjpe_m(pred, gt, window_frames=window_frames)),
        "w_mpjpe": jnp.mean(w_mpjpe_m(pred, gt, window_frames=window_frames)),
        "accel": jnp.mean(accel_error_m_per_frame2(pred, gt)),
        "vel": jnp.mean(vel_error_m_per_frame(pred, gt)),
        "sliding_wham": sliding_wham,
        "sliding_xy": sliding_xy,
        "penetration": jnp.mean(ground_penetration_m(pred, foot_indices, **ground)[1]),
        "floating": jnp.mean(floating_m(pred, foot_indices, float_threshold_m=contact_height_m, **ground)[1]),
        "height_std": jnp.mean(foot_height_std_m(pred, foot_indices, contact_height_m=contact_height_m, **ground)),
        "success_rate": jnp.mean(success.astype(jnp.float32)),
    }


def summarize(
    pred,
    gt,
    *,
    fps: float,
    foot_indices: Sequence[int],
    window_frames: int = WINDOW_FRAMES,
    contact_height_m: float = CONTACT_HEIGHT_M,
    contact_displacement_m: float = CONTACT_DISPLACEMENT_M,
    success_threshold_m: float = SUCCESS_THRESHOLD_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Sequence[float] = 0.0,
) -> dict[str, float]:
    """All metrics of a prediction against ground truth, in the units the field reports.

    Host-side entry point (not jittable itself: it returns Python floats). Per-frame
    errors are averaged over every frame of every sequence, as WHAM concatenates frames.

    Args:
      pred, gt: [..., T, J, 3] world joint positions in metres (numpy or jax), T >= 3.
      fps: frame rate of both, used for the per-second variants (the field's per-frame
        numbers assume 30 fps data).
      foot_indices: foot joint indices, e.g. ``skeleton.FOOT_BODIES`` (ankles and toes).
      window_frames: WA/W-MPJPE window length (WHAM: 100).
      contact_height_m, floor_z_m, foot_rest_height_m: height contact, see
        ``foot_clearance_m`` and ``foot_sliding_m``; ``contact_height_m`` is also the
        floating threshold.
      contact_displacement_m: WHAM's ground-truth contact threshold (1 cm per frame).
      success_threshold_m: PHC's failure distance (0.5 m).

    Returns:
      ``mpjpe_mm``: root-relative MPJPE (joint 0 subtracted per frame);
      ``pa_mpjpe_mm``: per-frame similarity Procrustes-aligned MPJPE;
      ``g_mpjpe_mm``: global, unaligned MPJPE;
      ``wa_mpjpe_mm``: WHAM WA-MPJPE, one similarity fit per ``window_frames`` window;
      ``w_mpjpe_mm``: WHAM W-MPJPE, similarity fitted on each window's first two frames;
      ``accel_error_mm_per_frame2``: acceleration error in mm/frame^2 (WHAM's and PHC's
        unit); ``accel_error_mm_s2`` the same times fps^2;
      ``vel_error_mm_per_frame``: velocity error in mm/frame (PHC); ``vel_error_mm_s``
        the same times fps;
      ``foot_sliding_mm``: WHAM's foot sliding, mm per frame: predicted 3D displacement of
        the foot points over the steps where the ground-truth point moves < 1 cm/frame;
      ``foot_sliding_xy_mm``: the prediction's own sliding, mm per frame: xy displacement
        of foot points within ``contact_height_m`` of the floor at both frames of a step;
      ``ground_penetration_mm``: mean depth of the lowest foot point below the floor;
      ``floating_mm``: mean height of the lowest foot point above the contact band;
      ``height_std_mm``: standard deviation of the lowest foot point's height over its
        contact frames (PhysHMR's "height variance"), mean over sequences;
      ``success_rate``: fraction of sequences whose mean body distance never exceeds
        ``success_threshold_m`` (1.0 or 0.0 for a single sequence).
      The plausibility numbers (sliding_xy, penetration, floating, height std) use the
      prediction only.
    """
    pred = jnp.asarray(pred, dtype=jnp.float32)
    gt = jnp.asarray(gt, dtype=jnp.float32)
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")
    if pred.ndim < 3 or pred.shape[-1] != 3:
        raise ValueError(f"joints must be [..., T, J, 3], got {pred.shape}")
    if pred.shape[-3] < 3:
        raise ValueError(f"need at least 3 frames for the acceleration error, got {pred.shape[-3]}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    means = _summary_means(
        pred,
        gt,
        jnp.asarray(foot_rest_height_m, dtype=jnp.float32),
        foot_indices=tuple(int(i) for i in foot_indices),
        window_frames=int(window_frames),
        contact_height_m=float(contact_height_m),
        contact_displacement_m=float(contact_displacement_m),
        success_threshold_m=float(success_threshold_m),
        floor_z_m=float(floor_z_m),
    )
    m = {k: float(v) for k, v in means.items()}
    return {
        "mpjpe_mm": m["mpjpe"] * M_TO_MM,
        "pa_mpjpe_mm": m["pa_mpjpe"] * M_TO_MM,
        "g_mpjpe_mm": m["g_mpjpe"] * M_TO_MM,
        "wa_mpjpe_mm": m["wa_mpjpe"] * M_TO_MM,
        "w_mpjpe_mm": m["w_mpjpe"] * M_TO_MM,
        "accel_error_mm_per_frame2": m["accel"] * M_TO_MM,
        "accel_error_mm_s2": m["accel"] * M_TO_MM * fps**2,
        "vel_error_mm_per_frame": m["vel"] * M_TO_MM,
        "vel_error_mm_s": m["vel"] * M_TO_MM * fps,
        "foot_sliding_mm": m["sliding_wham"] * M_TO_MM,
        "foot_sliding_xy_mm": m["sliding_xy"] * M_TO_MM,
        "ground_penetration_mm": m["penetration"] * M_TO_MM,
        "floating_mm": m["floating"] * M_TO_MM,
        "height_std_mm": m["height_std"] * M_TO_MM,
        "success_rate": m["success_rate"],
    }


__all__ = [
    "procrustes_transform",
    "procrustes_align",
    "mpjpe_m",
    "pa_mpjpe_m",
    "g_mpjpe_m",
    "wa_mpjpe_m",
    "w_mpjpe_m",
    "vel_error_m_per_frame",
    "accel_error_m_per_frame2",
    "foot_clearance_m",
    "contact_steps_from_frames",
    "contact_steps_from_displacement",
    "foot_step_displacement_m",
    "foot_sliding_m",
    "ground_penetration_m",
    "floating_m",
    "foot_height_std_m",
    "tracking_success",
    "summarize",
]
