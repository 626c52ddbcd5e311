"""The two evaluation protocols a result table names: PhysHMR's and PHC's.

Both take sequences of world joint positions (prediction and ground truth, [T, J, 3] in
metres, any T per sequence) and return one row per sequence or clip and a summary, with
every error in millimetres. The metrics themselves are :mod:`physhmr_jax.eval.metrics` and
:mod:`physhmr_jax.eval.physical`; this module fixes what each protocol aligns, cuts,
counts and averages.

**PhysHMR** (its released ``scripts/visualize.py``, ``../shared/DESIGN.md``):

* every sequence is cut into consecutive clips of ``clip_frames`` (100) frames (a shorter
  tail is dropped; a sequence shorter than one clip is one clip);
* before any metric, the whole clip's prediction is rigidly aligned to the ground truth
  (one rotation + translation fitted to every joint of every frame, no scale);
* a clip whose PA-MPJPE exceeds ``failure_pa_mpjpe_mm`` (100 mm) is a failure: counted in
  ``failure_rate`` and left out of every average;
* ``pa_mpjpe_mm`` (per-frame similarity alignment), ``mpjpe_mm`` (root-relative),
  ``wa_mpjpe_mm`` (the clip's frames after a rigid fit on its first frame: 100-frame
  windows aligned on the first frame), ``w_mpjpe_mm`` (the aligned clip's global error);
* ``foot_sliding_mm`` as GVHMR: the predicted 3D displacement of the foot points over the
  steps where the ground-truth point moves less than 1 cm per frame (mm per frame);
* ``height_variance``: the variance of the per-frame lowest point over the lowest 25% of
  frames, x 1e6 (m^2 -> mm^2);
* ``pelvis_accel_error`` / ``pelvis_vel_error``: joint 0 only, mm per frame^2 / per frame
  (x 1000 of metres);
* ``ground_penetration_mm`` (ours; PhysHMR reports none): the mean depth of the lowest
  foot point below the floor, on the prediction as simulated (before alignment).

**PHC** (``phc/utils/metrics``; the expert's ``eval expert``): no alignment, every frame of
the whole sequence until it fails: ``success`` when the mean body distance never exceeds
0.5 m; ``g_mpjpe_mm`` (global), ``mpjpe_mm`` (root-relative, PHC's L-MPJPE),
``pa_mpjpe_mm`` and ``accel_error_mm`` (every joint, mm per frame^2) over the frames
tracked before the first failure; ``ground_penetration_mm`` as above. Summaries average
over all sequences and over the successful ones (``success_only``).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from physhmr_jax.eval import metrics, physical

CLIP_FRAMES = 100  # PhysHMR's evaluation clips
FAILURE_PA_MPJPE_MM = 100.0  # PhysHMR: a clip with a larger PA-MPJPE is a failure
LOWEST_FRAMES_FRACTION = 0.25  # PhysHMR's height variance: the lowest quarter of frames
HEIGHT_VARIANCE_SCALE = 1e6  # m^2 -> the reported unit (mm^2)

PHYSHMR_KEYS = (
    "pa_mpjpe_mm", "wa_mpjpe_mm", "w_mpjpe_mm", "mpjpe_mm", "pelvis_accel_error", "pelvis_vel_error",
    "foot_sliding_mm", "height_variance", "ground_penetration_mm",
)  # fmt: skip
PHC_KEYS = ("g_mpjpe_mm", "mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm", "ground_penetration_mm")


def _mm(x) -> float:
    return metrics.M_TO_MM * float(jnp.mean(x))


def _as_pair(pred, gt) -> tuple[jnp.ndarray, jnp.ndarray]:
    pred, gt = jnp.asarray(pred, jnp.float32), jnp.asarray(gt, jnp.float32)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"pred and gt must both be [T, J, 3], got {pred.shape} and {gt.shape}")
    return pred, gt


def rigid_align_sequence(pred, gt) -> jnp.ndarray:
    """``pred`` [T, J, 3] moved by the one rotation + translation (no scale) that best fits
    all its joints of all frames to ``gt``."""
    pred, gt = _as_pair(pred, gt)
    flat_pred, flat_gt = pred.reshape(-1, 3), gt.reshape(-1, 3)
    return metrics.procrustes_align(flat_pred, flat_gt, with_scale=False).reshape(pred.shape)


def height_variance(joints, *, lowest_fraction: float = LOWEST_FRAMES_FRACTION) -> float:
    """PhysHMR's height variance of [T, J, 3] joints: the variance of the per-frame lowest
    point (m) over the ``lowest_fraction`` of frames where it is lowest, x 1e6."""
    lowest = np.sort(np.asarray(joints)[..., 2].min(axis=-1))
    count = max(int(np.ceil(lowest_fraction * lowest.size)), 1)
    return float(np.var(lowest[:count])) * HEIGHT_VARIANCE_SCALE


def _ground_penetration_mm(pred, foot_indices: Sequence[int]) -> float:
    mean_m, _ = physical.ground_penetration_m(pred, tuple(int(i) for i in foot_indices))
    return _mm(mean_m)


def physhmr_clip(pred, gt, *, foot_indices: Sequence[int]) -> dict:
    """PhysHMR's metrics of one clip [T, J, 3] (module docstring); ``failed`` by its PA rule."""
    pred, gt = _as_pair(pred, gt)
    aligned = rigid_align_sequence(pred, gt)
    pa = _mm(metrics.pa_mpjpe_m(aligned, gt))
    feet = tuple(int(i) for i in foot_indices)
    contact = physical.contact_steps_from_displacement(gt, feet)
    sliding, _ = physical.foot_sliding_m(aligned, feet, contact_steps=contact, horizontal=False)
    num_frames = pred.shape[0]
    wa = metrics.first_frame_aligned_mpjpe_m(aligned, gt, window_frames=num_frames)
    pelvis, pelvis_gt = aligned[:, :1], gt[:, :1]
    row = {
        "frames": int(num_frames),
        "failed": bool(not pa <= FAILURE_PA_MPJPE_MM),  # NaN fails
        "pa_mpjpe_mm": pa,
        "wa_mpjpe_mm": _mm(wa),
        "w_mpjpe_mm": _mm(metrics.g_mpjpe_m(aligned, gt)),
        "mpjpe_mm": _mm(metrics.mpjpe_m(aligned, gt)),
        "pelvis_accel_error": _mm(metrics.accel_error_m_per_frame2(pelvis, pelvis_gt)) if num_frames >= 3 else None,
        "pelvis_vel_error": _mm(metrics.vel_error_m_per_frame(pelvis, pelvis_gt)) if num_frames >= 2 else None,
        "foot_sliding_mm": metrics.M_TO_MM * float(sliding),
        "height_variance": height_variance(aligned),
        "ground_penetration_mm": _ground_penetration_mm(pred, feet),
    }
    return row


def clips_of(num_frames: int, clip_frames: int = CLIP_FRAMES) -> list[slice]:
    """The frame ranges of PhysHMR's clips of a ``num_frames`` sequence."""
    if num_frames < clip_frames:
        return [slice(0, num_frames)]
    return [slice(s, s + clip_frames) for s in range(0, num_frames - clip_frames + 1, clip_frames)]


def _mean(rows: Sequence[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def physhmr_protocol(
    sequences: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    foot_indices: Sequence[int],
    names: Sequence[str] | None = None,
    clip_frames: int = CLIP_FRAMES,
) -> dict:
    """PhysHMR's protocol over (pred, gt) sequences: {"protocol", "clips", "failure_rate",
    <PHYSHMR_KEYS means over the clips that did not fail>, "per_clip": rows}."""
    rows = []
    for i, (pred, gt) in enumerate(sequences):
        name = names[i] if names is not None else str(i)
        for part in clips_of(np.asarray(pred).shape[0], clip_frames):
            row = physhmr_clip(np.asarray(pred)[part], np.asarray(gt)[part], foot_indices=foot_indices)
            rows.append({"sequence": name, "start_frame": part.start, **row})
    kept = [r for r in rows if not r["failed"]]
    return {
        "protocol": "physhmr",
        "clips": len(rows),
        "failure_rate": (len(rows) - len(kept)) / len(rows) if rows else None,
        **{k: _mean(kept, k) for k in PHYSHMR_KEYS},
        "per_clip": rows,
    }


def phc_sequence(pred, gt, *, foot_indices: Sequence[int] | None = None) -> dict:
    """PHC's metrics of one sequence [T, J, 3] (module docstring)."""
    pred, gt = _as_pair(pred, gt)
    n = pred.shape[0]
    success, distance = metrics.tracking_success(pred, gt, threshold_m=metrics.SUCCESS_THRESHOLD_M)
    failed = ~(np.asarray(distance) <= metrics.SUCCESS_THRESHOLD_M)  # NaN counts as failed
    tracked = max(int(np.argmax(failed)) if failed.any() else n, 1)
    s, r = pred[:tracked], gt[:tracked]
    row = {
        "frames": int(n),
        "frames_tracked": tracked,
        "success": bool(success),  # every frame within the threshold (NaN fails)
        "g_mpjpe_mm": _mm(metrics.g_mpjpe_m(s, r)),
        "mpjpe_mm": _mm(metrics.mpjpe_m(s, r)),
        "pa_mpjpe_mm": _mm(metrics.pa_mpjpe_m(s, r)),
        "accel_error_mm": _mm(metrics.accel_error_m_per_frame2(s, r)) if tracked >= 3 else None,
    }
    if foot_indices is not None:
        row["ground_penetration_mm"] = _ground_penetration_mm(s, foot_indices)
    return row


def phc_protocol(
    sequences: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    foot_indices: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
) -> dict:
    """PHC's protocol over (pred, gt) sequences: {"protocol", "clips", "success_rate",
    <PHC_KEYS means over all sequences>, "success_only": {the same over the successful
    ones}, "per_clip": rows}."""
    rows = [
        {"clip": names[i] if names is not None else str(i), **phc_sequence(p, g, foot_indices=foot_indices)}
        for i, (p, g) in enumerate(sequences)
    ]
    return {"protocol": "phc", **phc_summary(rows), "per_clip": rows}


def phc_summary(rows: Sequence[dict]) -> dict:
    """{"clips", "success_rate", <PHC_KEYS means over all rows>, "success_only": {the same
    over the successful ones}} of :func:`phc_sequence` rows (keys a row lacks are left out)."""
    successes = [r for r in rows if r["success"]]
    keys = [k for k in PHC_KEYS if rows and k in rows[0]]
    return {
        "clips": len(rows),
        "success_rate": len(successes) / len(rows) if rows else None,
        **{k: _mean(rows, k) for k in keys},
        "success_only": {k: _mean(successes, k) for k in keys},
    }


__all__ = [
    "CLIP_FRAMES",
    "FAILURE_PA_MPJPE_MM",
    "PHC_KEYS",
    "PHYSHMR_KEYS",
    "clips_of",
    "height_variance",
    "phc_protocol",
    "phc_sequence",
    "phc_summary",
    "physhmr_clip",
    "physhmr_protocol",
    "rigid_align_sequence",
]
