"""AMASS ``.npz`` motions: SMPL(-H/-X) joint rotations mapped joint for joint onto our humanoid.

An AMASS file holds ``poses`` (T, 72) SMPL, (T, 156) SMPL-H or (T, 165) SMPL-X axis-angle
rotations (root first, then each joint relative to its parent, SMPL joint order), ``trans``
(T, 3) metres and ``mocap_framerate`` (older files: ``mocap_frame_rate``); ``betas`` and
``gender`` are optional and not used (no SMPL model files here, so the body is
``skeleton``, the mean body by default). For SMPL-H/-X only the first 66 numbers (root and
21 body joints) are SMPL's; the two SMPL hand bodies get zero rotation.

Frames. The AMASS world is z up, like ours, and is kept as is. SMPL's canonical body frame
is y up, facing +z, left +x; ours is z up, facing +x, left +y, so a body-frame vector maps
as ``v_ours = C v_smpl`` with ``C`` the rotation ours = (z_s, x_s, y_s). Hence

* a joint's local rotation ``R`` becomes ``C R C^T`` (all SMPL and all our body frames are
  aligned in the rest pose, so the change of basis is the same at every joint);
* the root rotation becomes ``R_root C^T``: our forward axis +x goes to
  ``R_root C^T e_x = R_root (0, 0, 1)``, the SMPL body's facing direction.

The 69 hinge angles are the intrinsic x-y-z Euler angles of ``C R C^T`` (``R = Rx Ry Rz``,
``skeleton.py``), chosen per frame between the two equivalent Euler triples as the one
closest to the previous frame (the first frame: closest to zero), by
:func:`~physhmr_jax.geometry.rotations_np.continuous_euler_xyz`. That keeps a 120 deg
knee flexion as (0, 120, 0) rather than (180, 60, 180) and unwraps the angles over time.

Pelvis position. SMPL rotates the body about its pelvis joint ``J0`` (shape dependent,
model coordinates), so ``pelvis_world = trans + J0`` with ``J0`` *not* rotated. We use
``J0`` of the SMPL neutral mean shape, (-0.0018, -0.2233, 0.0282) m, as it appears as the
Pelvis body position of PHC's SMPL humanoid; betas move it by about a centimetre or two,
which we ignore.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from physhmr_jax.geometry.rotations_np import Y_UP_TO_OURS, continuous_euler_xyz, continuous_quat_wxyz, rotvec_to_matrix
from physhmr_jax.humanoid.skeleton import NUM_BODIES, SMPL_INDEX, Skeleton, mean_skeleton
from physhmr_jax.motion.clip import Clip, MotionFileError
from physhmr_jax.npz_io import NPZ_READ_ERRORS

# SMPL canonical (y up, facing +z, left +x) -> ours (z up, facing +x, left +y).
SMPL_TO_OURS = Y_UP_TO_OURS
# Pelvis joint J0 of the SMPL neutral mean shape, model coordinates (metres).
SMPL_MEAN_PELVIS_M = np.array([-0.0018, -0.2233, 0.0282])
SMPL_BODY_WIDTH = 66  # root + 21 body joints, the part SMPL, SMPL-H and SMPL-X share
POSE_WIDTHS = {72: "SMPL", 156: "SMPL-H", 165: "SMPL-X", 66: "SMPL body (root + 21 joints)"}
FRAMERATE_KEYS = ("mocap_framerate", "mocap_frame_rate")


def smpl_pose_to_humanoid(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SMPL axis-angle poses -> our root position, root quaternion and hinge angles.

    Args:
      poses: [T, 72] axis-angle rotations of the 24 SMPL joints (SMPL order), radians.
      trans: [T, 3] SMPL translation (metres, AMASS world, z up).

    Returns:
      root_pos_m [T, 3], root_quat [T, 4] (wxyz), dof [T, 69].
    """
    t = poses.shape[0]
    mats = rotvec_to_matrix(poses.reshape(t, NUM_BODIES, 3))
    root = mats[:, 0] @ SMPL_TO_OURS.T
    local = SMPL_TO_OURS @ mats[:, list(SMPL_INDEX[1:])] @ SMPL_TO_OURS.T  # our bodies 1..23
    dof = continuous_euler_xyz(local).reshape(t, 3 * (NUM_BODIES - 1))
    return trans + SMPL_MEAN_PELVIS_M, continuous_quat_wxyz(root), dof


def load_amass(path: str | os.PathLike, *, skeleton: Skeleton | None = None) -> Clip:
    """Load an AMASS-style ``.npz`` as a :class:`Clip` on ``skeleton`` (default: the mean body).

    Errors (missing keys, wrong shapes, NaN frames, bad frame rate) raise
    :class:`MotionFileError` naming the file and the problem.
    """
    path = Path(path)
    poses, trans, rate, rate_key = _read_arrays(path)

    if poses.ndim != 2 or poses.shape[1] not in POSE_WIDTHS:
        widths = ", ".join(f"(T, {w}) {name}" for w, name in POSE_WIDTHS.items())
        raise MotionFileError(path, f"'poses' has shape {poses.shape}; expected {widths}")
    num_frames = poses.shape[0]
    if num_frames == 0:
        raise MotionFileError(path, "has zero frames")
    if trans.shape != (num_frames, 3):
        raise MotionFileError(path, f"'trans' has shape {trans.shape}, expected ({num_frames}, 3) to match 'poses'")
    if rate.size != 1:
        raise MotionFileError(path, f"'{rate_key}' must be a scalar, got shape {rate.shape}")
    fps = float(rate.reshape(()))
    if not (np.isfinite(fps) and fps > 0):
        raise MotionFileError(path, f"'{rate_key}' must be positive, got {fps}")
    for key, arr in (("poses", poses), ("trans", trans)):
        bad = ~np.all(np.isfinite(arr), axis=1)
        if bad.any():
            raise MotionFileError(
                path, f"NaN/inf in '{key}' in {int(bad.sum())} frame(s), first at frame {int(np.flatnonzero(bad)[0])}"
            )
    with np.errstate(over="ignore"):  # an axis-angle vector whose length overflows has no rotation
        huge = ~np.all(np.isfinite(np.linalg.norm(poses.reshape(num_frames, -1, 3), axis=-1)), axis=1)
    if huge.any():
        raise MotionFileError(
            path,
            f"'poses' has rotation vectors too long to be angles in {int(huge.sum())} frame(s), first at frame "
            f"{int(np.flatnonzero(huge)[0])}",
        )

    smpl = np.zeros((num_frames, 3 * NUM_BODIES))
    width = poses.shape[1] if poses.shape[1] == 72 else SMPL_BODY_WIDTH  # SMPL-H/-X: body part only
    smpl[:, :width] = poses[:, :width]
    root_pos, root_quat, dof = smpl_pose_to_humanoid(smpl, trans)
    skeleton = skeleton if skeleton is not None else mean_skeleton()
    clip = Clip(
        name=path.stem,
        fps=fps,
        root_pos_m=root_pos,
        root_quat=root_quat,
        dof=dof,
        skeleton=skeleton,
        source=str(path),
    )
    return clip.validate(path)


def _read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """``poses``, ``trans`` and the frame rate (float64) of an AMASS ``.npz``, and the rate's key."""
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            raise MotionFileError(path, "a single .npy array, not an AMASS .npz (written with np.save, not np.savez?)")
        with data:
            keys = sorted(data.files)
            rate_key = next((k for k in FRAMERATE_KEYS if k in keys), None)
            missing = [k for k in ("poses", "trans") if k not in keys] + ([] if rate_key else [FRAMERATE_KEYS[0]])
            if missing:
                raise MotionFileError(
                    path,
                    f"not an AMASS motion: missing key(s) {missing} (has {keys}); expected 'poses', "
                    f"'trans' and 'mocap_framerate' (or 'mocap_frame_rate')",
                )
            arrays = {k: data[k] for k in ("poses", "trans", rate_key)}
            for key, arr in arrays.items():
                if arr.dtype.kind not in "biuf":
                    raise MotionFileError(path, f"'{key}' has dtype {arr.dtype}, expected real numbers")
            arrays = {k: arr.astype(np.float64) for k, arr in arrays.items()}
    except MotionFileError:
        raise
    except NPZ_READ_ERRORS as err:
        raise MotionFileError(path, f"cannot read as .npz ({err})") from None
    return arrays["poses"], arrays["trans"], arrays[rate_key], rate_key


def write_amass_npz(
    path: str | os.PathLike,
    poses: np.ndarray,
    trans: np.ndarray,
    fps: float,
    betas: np.ndarray | None = None,
) -> Path:
    """Write ``poses`` [T, 72|156|165], ``trans`` [T, 3] and ``fps`` in the AMASS ``.npz`` layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        poses=np.asarray(poses, dtype=np.float64),
        trans=np.asarray(trans, dtype=np.float64),
        mocap_framerate=np.float64(fps),
        betas=np.zeros(16) if betas is None else np.asarray(betas, dtype=np.float64),
        gender=np.array("neutral"),
    )
    return path


__all__ = [
    "SMPL_MEAN_PELVIS_M",
    "SMPL_TO_OURS",
    "continuous_euler_xyz",
    "load_amass",
    "smpl_pose_to_humanoid",
    "write_amass_npz",
]
