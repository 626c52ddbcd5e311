"""Every evaluation metric of a prediction against ground truth, in the field's units.

:func:`summarize` is the host-side entry point: it pools the joint-position errors and
success rate of :mod:`physhmr_jax.eval.metrics` and the plausibility numbers of
:mod:`physhmr_jax.eval.physical` in one compiled call, then converts metres to the
millimetres (per frame, or per second with ``fps``) that PHC, WHAM and GVHMR report.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import Array

from physhmr_jax.eval.metrics import (
    M_TO_MM,
    SUCCESS_THRESHOLD_M,
    WINDOW_FRAMES,
    accel_error_m_per_frame2,
    g_mpjpe_m,
    mpjpe_m,
    pa_mpjpe_m,
    tracking_success,
    vel_error_m_per_frame,
    w_mpjpe_m,
    wa_mpjpe_m,
)
from physhmr_jax.eval.physical import (
    CONTACT_DISPLACEMENT_M,
    CONTACT_HEIGHT_M,
    contact_steps_from_displacement,
    contact_steps_from_frames,
    floating_m,
    foot_clearance_m,
    foot_height_std_m,
    foot_step_displacement_m,
    ground_penetration_m,
)


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
        ``physical.foot_clearance_m`` and ``physical.foot_sliding_m``;
        ``contact_height_m`` is also the floating threshold.
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


__all__ = ["summarize"]
