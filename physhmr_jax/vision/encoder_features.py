"""The encoder's outputs in use: features written into shards, and the kinematic baseline.

Features. ``physhmr encoder features`` stores the encoder's ``features [T, 512]`` in every
shard (:func:`write_features`); the policy reads them back with :func:`load_features`. The
contract (one finite float32 row of ``F`` numbers per frame, any ``F``) is documented in
:mod:`physhmr_jax.vision.shards`.

Kinematic baseline (``physhmr encoder eval``). The head's root-relative pose is placed in
the camera with its root on the pelvis keypoint's ray, or by the free least-squares
translation without a visible pelvis keypoint
(:func:`physhmr_jax.geometry.root_placement.place_root`, equations in its module
docstring). Metrics from :mod:`physhmr_jax.eval.metrics`: MPJPE (root-relative), PA-MPJPE,
and G-MPJPE in the world after root placement (also with the pose scaled to the mean body's
bone length first: a crop hides absolute size).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import ml_collections
import numpy as np

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.geometry.root_placement import place_root
from physhmr_jax.humanoid.skeleton import BODY_INDEX, PARENTS, mean_skeleton
from physhmr_jax.vision.encoder_model import ImageEncoder, encode_sample
from physhmr_jax.vision.encoder_train import M_TO_MM, camera_frame_targets, load_encoder, split_shards
from physhmr_jax.vision.shards import (
    VideoSample,
    body_keypoint_indices,
    encoder_output,
    load_sample,
    save_sample,
)

# ----------------------------------------------------------------------------- features


def write_features(run_dir: str | os.PathLike, paths: Sequence[Path], *, progress: bool = True) -> int:
    """Store ``features [T, F]`` and the heads' ``root_6d_estimate [T, 6]`` and
    ``joints_rel_cam_estimate [T, 24, 3]`` in every shard at ``paths`` (rewritten
    atomically). Returns frames."""
    from tqdm import tqdm

    model, params, config = load_encoder(run_dir)
    frames = 0
    for path in tqdm(paths, desc="features", unit="shard", disable=not progress):
        sample = load_sample(path)
        out = encode_sample(model, params, config, sample)
        save_sample(
            path,
            dataclasses.replace(
                sample,
                features=out.features.astype(np.float32),
                root_6d_estimate=out.root_6d_cam.astype(np.float32),
                joints_rel_cam_estimate=out.joints_rel_cam.astype(np.float32),
            ),
        )
        frames += sample.num_frames
    return frames


def load_features(sample: VideoSample) -> np.ndarray:
    """The policy's side of the features contract: [T, F] float32, or an error naming the shard."""
    return encoder_output(sample, "features")


# ----------------------------------------------------------------------------- kinematic baseline


def body_keypoints(sample: VideoSample) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in body order: kp2d [T, 24, 2], conf [T, 24] (0 for bodies the set lacks).

    A missing pelvis keypoint is the midpoint of the two hip keypoints when both are there
    (detector sets have no pelvis; the midpoint of their hips is close to it).
    """
    idx = body_keypoint_indices(sample.joint_names)
    present = idx >= 0
    kp = np.where(present[None, :, None], sample.kp2d[:, np.maximum(idx, 0)], 0.0)
    conf = np.where(present[None, :], sample.conf[:, np.maximum(idx, 0)], 0.0)
    if not present[0]:
        lh, rh = BODY_INDEX["L_Hip"], BODY_INDEX["R_Hip"]
        both = (conf[:, lh] > 0) & (conf[:, rh] > 0)
        kp[:, 0] = np.where(both[:, None], 0.5 * (kp[:, lh] + kp[:, rh]), 0.0)
        conf[:, 0] = np.where(both, np.minimum(conf[:, lh], conf[:, rh]), 0.0)
    return kp.astype(np.float32), conf.astype(np.float32)


def total_bone_length_m(joints: np.ndarray) -> np.ndarray:
    """[..., 24, 3] -> [...] the summed length of the 23 bones (metres)."""
    joints = np.asarray(joints, np.float64)
    return np.linalg.norm(joints[..., 1:, :] - joints[..., list(PARENTS[1:]), :], axis=-1).sum(axis=-1)


def mean_body_bone_length_m() -> float:
    """Summed bone length of the built-in mean body (4.36 m)."""
    return float(np.linalg.norm(mean_skeleton().offsets_m[1:], axis=-1).sum())


def kinematic_world_joints(
    joints_rel_cam: np.ndarray, sample: VideoSample, *, bone_length_m: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The kinematic baseline's world joints [T, 24, 3] and camera-frame root [T, 3]: the
    root-relative camera-frame pose placed with its root on the pelvis keypoint's ray
    (:func:`place_root`), then taken into the world with the sample's camera. With
    ``bone_length_m`` the pose is scaled per frame to that summed bone length first."""
    placed = np.asarray(joints_rel_cam, np.float64)
    if bone_length_m is not None:
        placed = placed * (bone_length_m / np.maximum(total_bone_length_m(placed), 1e-6))[:, None, None]
    kp, conf = body_keypoints(sample)
    root, _ = place_root(placed, kp, conf, sample.K)
    pred_cam = placed + root[:, None]
    world = np.einsum("tij,tnj->tni", sample.R_wc.astype(np.float64), pred_cam) + sample.t_wc[:, None]
    return world, root


def baseline_errors(
    joints_rel_cam_pred: np.ndarray, sample: VideoSample, *, bone_length_m: float | None = None
) -> dict[str, np.ndarray]:
    """Per-frame errors of a root-relative camera-frame pose prediction on a synthetic sample.

    The root is placed with :func:`place_root` on the sample's keypoints; metrics come
    from :mod:`physhmr_jax.eval.metrics`. With ``bone_length_m`` the pose is first scaled,
    per frame, to that summed bone length (a body-size prior) for the root placement and
    the world-frame error: a crop hides the person's absolute size, and a regressor's
    uncertain limbs come out short (averaged directions), which puts the root too close.
    The root-relative errors always use the pose as given.

    Returns [T] arrays (metres): ``mpjpe_m`` (root-relative), ``pa_mpjpe_m``,
    ``g_mpjpe_m`` (world frame, after root placement) and ``root_error_m``.
    """
    from physhmr_jax.eval import metrics

    joints_rel_true, _, root_true = camera_frame_targets(sample)
    pred_world, root = kinematic_world_joints(joints_rel_cam_pred, sample, bone_length_m=bone_length_m)
    pred_rel, true_rel = jnp.asarray(joints_rel_cam_pred, jnp.float32), jnp.asarray(joints_rel_true)
    return {
        "mpjpe_m": np.asarray(metrics.mpjpe_m(pred_rel, true_rel)),
        "pa_mpjpe_m": np.asarray(metrics.pa_mpjpe_m(pred_rel, true_rel)),
        "g_mpjpe_m": np.asarray(metrics.g_mpjpe_m(jnp.asarray(pred_world, jnp.float32), jnp.asarray(sample.joints3d))),
        "root_error_m": np.linalg.norm(root - root_true, axis=-1),
    }


def rotation_error_deg(root_6d_pred: np.ndarray, root_6d_true: np.ndarray) -> np.ndarray:
    """[T, 6], [T, 6] -> [T] geodesic angle between the Gram-Schmidt rotations (degrees)."""
    R_pred = np.asarray(rot.sixd_to_matrix(jnp.asarray(root_6d_pred)), np.float64)
    R_true = np.asarray(rot.sixd_to_matrix(jnp.asarray(root_6d_true)), np.float64)
    cos = (np.einsum("tij,tij->t", R_pred, R_true) - 1.0) / 2.0
    return np.rad2deg(np.arccos(np.clip(cos, -1.0, 1.0)))


def evaluate_encoder(
    model: ImageEncoder, params, config: ml_collections.ConfigDict, paths: Sequence[Path], *, progress: bool = False
) -> dict[str, Any]:
    """The kinematic baseline over the shards at ``paths``: frame-weighted means in mm / degrees.

    ``g_mpjpe_bone_prior_mm`` places the pose scaled to the mean body's summed bone length
    (:func:`baseline_errors`); ``oracle_g_mpjpe_mm`` places the *true* root-relative pose
    with the same keypoints: the part of the global error that comes from root placement
    on noisy keypoints alone.
    """
    from tqdm import tqdm

    rows: dict[str, list[np.ndarray]] = {}
    bone_prior_m = mean_body_bone_length_m()
    for path in tqdm(paths, desc="eval", unit="shard", disable=not progress):
        sample = load_sample(path)
        out = encode_sample(model, params, config, sample)
        errs = baseline_errors(out.joints_rel_cam, sample)
        joints_true, root6_true, _ = camera_frame_targets(sample)
        errs["root_orientation_error_deg"] = rotation_error_deg(out.root_6d_cam, root6_true)
        errs["oracle_g_mpjpe_m"] = baseline_errors(joints_true, sample)["g_mpjpe_m"]
        errs["g_mpjpe_bone_prior_m"] = baseline_errors(out.joints_rel_cam, sample, bone_length_m=bone_prior_m)[
            "g_mpjpe_m"
        ]
        for k, v in errs.items():
            rows.setdefault(k, []).append(np.asarray(v, np.float64))
    mean = {k: float(np.mean(np.concatenate(v))) for k, v in rows.items()}
    return {
        "shards": len(paths),
        "frames": int(sum(len(v) for v in rows["mpjpe_m"])),
        "mpjpe_mm": round(M_TO_MM * mean["mpjpe_m"], 2),
        "pa_mpjpe_mm": round(M_TO_MM * mean["pa_mpjpe_m"], 2),
        "g_mpjpe_mm": round(M_TO_MM * mean["g_mpjpe_m"], 2),
        "g_mpjpe_bone_prior_mm": round(M_TO_MM * mean["g_mpjpe_bone_prior_m"], 2),
        "root_error_mm": round(M_TO_MM * mean["root_error_m"], 2),
        "root_orientation_error_deg": round(mean["root_orientation_error_deg"], 2),
        "oracle_g_mpjpe_mm": round(M_TO_MM * mean["oracle_g_mpjpe_m"], 2),
    }


# ----------------------------------------------------------------------------- CLI entries


def write_split_features(
    encoder: str | os.PathLike, data: str | os.PathLike, *, split: str | None = None, progress: bool = True
) -> dict[str, Any]:
    """``physhmr encoder features``: write ``features [T, F]`` into every shard of ``data/<split>``."""
    paths = split_shards(data, split)
    frames = write_features(encoder, paths, progress=progress)
    return {"encoder": str(encoder), "data": str(data), "split": split, "shards": len(paths), "frames": frames}


def evaluate_split(
    encoder: str | os.PathLike, data: str | os.PathLike, *, split: str | None = "test", progress: bool = True
) -> dict[str, Any]:
    """``physhmr encoder eval``: the kinematic baseline on ``data/<split>``."""
    model, params, config = load_encoder(encoder)
    paths = split_shards(data, split)
    result = evaluate_encoder(model, params, config, paths, progress=progress)
    return {"encoder": str(encoder), "data": str(data), "split": split, **result}
