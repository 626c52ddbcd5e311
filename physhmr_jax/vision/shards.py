"""The video sample shard: one video's frames, 2D keypoints, camera and (synthetic) truth.

A shard is an ``.npz`` with

  required  ``kp2d (T,J,2)`` float32 pixels (camera.py's convention: the image spans
            ``[0, W] x [0, H]``), ``conf (T,J)`` float32 in ``[0, 1]``, ``K (3,3)``,
            ``R_wc (T,3,3)`` world-from-camera, ``t_wc (T,3)`` camera centre in the world
            (metres, z up), ``fps`` scalar, ``joint_names (J,)`` the keypoint names;
  optional  ``frames (T,H,W,3)`` uint8 RGB, ``image_size (2,)`` ``(width, height)`` in
            pixels, ``joints3d (T,24,3)`` ground-truth world joints in the order of
            :data:`~physhmr_jax.humanoid.skeleton.BODY_NAMES` (synthetic data),
            ``root_quat (T,4)`` ground-truth world pelvis orientation, wxyz (synthetic
            data; shards written before it existed lack it), ``features (T,F)`` float32
            per-frame image features (see "Features" below), ``root_6d_estimate (T,6)``
            float32 the encoder head's estimate of the pelvis orientation in the camera
            frame (first two rotation-matrix columns; written with the features),
            ``joints_rel_cam_estimate (T,24,3)`` float32 the encoder head's root-relative
            pose in the camera frame (metres; written with the features; the kinematic
            baseline places it in the world),
            ``motion_name`` / ``motion_source`` (the clip it came from), ``camera_id``,
            ``name``, ``source`` (where the sample came from) and ``import_report`` (a JSON
            string: what a real-video import filled in or dropped, see
            :mod:`physhmr_jax.vision.video_import`).

Missing keypoints are ``conf == 0`` with a finite placeholder (0) in ``kp2d``: a NaN would
poison masked arithmetic in the compiled path (``0 * NaN = NaN``), so ``kp2d`` must be
finite everywhere.

Features. ``features`` is the contract between any image encoder and the vision policy:
one finite float32 row of ``F`` numbers per frame (``F`` = 512 for the default encoder,
:mod:`physhmr_jax.vision.encoder_model`, as in the paper; any other encoder may store its own
``F``). Row ``t`` describes frame ``t`` only. Consumers read ``F`` from the array; a shard
without ``features`` stays valid (the encoder fills them in with
``physhmr encoder features``, :mod:`physhmr_jax.vision.encoder_features`). The same command
stores ``root_6d_estimate``, the encoder's per-frame pelvis orientation in the camera frame:
with ``R_wc`` it gives the student its estimated world root rotation
(:mod:`physhmr_jax.vision.video_lib`).

Keypoint sets are named by ``joint_names``. Three sets are understood by
:func:`to_ray_keypoints`: our body names (synthetic data projects the humanoid's bodies),
COCO-17 (:data:`COCO17_NAMES`) and OpenPose BODY_25 (:data:`BODY25_NAMES`). The 12 ray
joints (shoulders, elbows, wrists, hips, knees, ankles) map directly from both detector
sets. Caveat: a detector's hip keypoint is not SMPL's hip joint centre. COCO annotators
mark the hips at the side of the pelvis, lower and wider than SMPL's hip joints (a few
cm; OpenPose BODY_25 was trained on COCO hips and inherits this). Shoulders are also
placed a little differently. So a detected hip ray misses the simulated hip by a few
centimetres even for a perfect pose. We map them anyway, as PhysHMR's pixel-as-ray input
does with its detector, and leave a learned or regressed correction to later work.
Nose, eyes, ears, OpenPose's neck / mid-hip and the foot keypoints have no direct body
counterpart and stay in ``kp2d`` unmapped.

Host-side numpy only. User errors raise :class:`VideoFileError`, naming the file and the
problem in one line.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from physhmr_jax.humanoid.skeleton import BODY_NAMES, NUM_BODIES, RAY_BODIES
from physhmr_jax.npz_io import NPZ_READ_ERRORS


class VideoFileError(ValueError):
    """A video, keypoint or shard file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# The 17 COCO person keypoints in the standard order (COCO "person" category).
COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

# The 25 OpenPose BODY_25 keypoints in OpenPose's output order (poseParameters.cpp).
BODY25_NAMES: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle",
    "REye", "LEye", "REar", "LEar",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)  # fmt: skip

# Detector keypoint -> our body, where one corresponds directly. "Left" is the person's
# left in COCO, OpenPose and SMPL alike. Hips are approximate (module docstring).
COCO17_TO_BODY: dict[str, str] = {
    "left_shoulder": "L_Shoulder", "right_shoulder": "R_Shoulder",
    "left_elbow": "L_Elbow", "right_elbow": "R_Elbow",
    "left_wrist": "L_Wrist", "right_wrist": "R_Wrist",
    "left_hip": "L_Hip", "right_hip": "R_Hip",
    "left_knee": "L_Knee", "right_knee": "R_Knee",
    "left_ankle": "L_Ankle", "right_ankle": "R_Ankle",
}  # fmt: skip
BODY25_TO_BODY: dict[str, str] = {
    "LShoulder": "L_Shoulder", "RShoulder": "R_Shoulder",
    "LElbow": "L_Elbow", "RElbow": "R_Elbow",
    "LWrist": "L_Wrist", "RWrist": "R_Wrist",
    "LHip": "L_Hip", "RHip": "R_Hip",
    "LKnee": "L_Knee", "RKnee": "R_Knee",
    "LAnkle": "L_Ankle", "RAnkle": "R_Ankle",
}  # fmt: skip

# The three name sets are disjoint (snake_case, CamelCase, L_/R_ prefixes), so one table
# resolves any of them; our own body names map to themselves.
_KEYPOINT_TO_BODY: dict[str, str] = {**COCO17_TO_BODY, **BODY25_TO_BODY, **{n: n for n in BODY_NAMES}}

NUM_RAY_JOINTS = len(RAY_BODIES)  # 12
# A rotation is accepted when |R^T R - I| and |det R - 1| stay below this (float32 storage).
_ROTATION_TOL = 1e-3

REQUIRED_KEYS = ("kp2d", "conf", "K", "R_wc", "t_wc", "fps", "joint_names")
_NUMERIC_KEYS = ("kp2d", "conf", "K", "R_wc", "t_wc", "fps", "image_size", "joints3d", "root_quat", "features",
                 "root_6d_estimate", "joints_rel_cam_estimate")  # fmt: skip
_ESTIMATES = ("joints3d", "root_quat", "features", "root_6d_estimate", "joints_rel_cam_estimate")


@dataclasses.dataclass(frozen=True)
class VideoSample:
    """One video with its 2D keypoints and camera (and ground truth when synthetic).

    Attributes:
      kp2d: [T, J, 2] keypoints in pixels (float32); a finite placeholder (0) where conf is 0.
      conf: [T, J] confidences in [0, 1] (float32); 0 means missing.
      K: [3, 3] intrinsics in pixels (camera.py convention).
      R_wc: [T, 3, 3] world-from-camera rotations (OpenCV camera axes).
      t_wc: [T, 3] camera centres in the world (metres).
      fps: frames per second.
      joint_names: the J keypoint names (e.g. :data:`COCO17_NAMES`).
      frames: [T, H, W, 3] uint8 RGB frames, or None.
      image_size: (width, height) in pixels, or None when unknown.
      joints3d: [T, 24, 3] ground-truth world joints (metres), or None.
      root_quat: [T, 4] ground-truth world pelvis orientation (wxyz), or None.
      features: [T, F] float32 per-frame image features (any F), or None.
      root_6d_estimate: [T, 6] float32 the encoder's camera-frame pelvis orientation
        estimate (first two columns of ``R_wc^T R_root``), or None.
      joints_rel_cam_estimate: [T, 24, 3] float32 the encoder's root-relative pose in the
        camera frame (metres), or None.
      motion_name, motion_source: the motion clip a synthetic sample was rendered from.
      camera_id: which camera of a synthetic set ("" when not applicable).
      name: short identifier; source: where the sample came from (a keypoint file, ...).
      import_report: what an import filled in or dropped (JSON-serialisable dict), or None.
    """

    kp2d: np.ndarray
    conf: np.ndarray
    K: np.ndarray
    R_wc: np.ndarray
    t_wc: np.ndarray
    fps: float
    joint_names: tuple[str, ...]
    frames: np.ndarray | None = None
    image_size: tuple[int, int] | None = None
    joints3d: np.ndarray | None = None
    motion_name: str = ""
    motion_source: str = ""
    camera_id: str = ""
    name: str = ""
    source: str = ""
    import_report: dict[str, Any] | None = None
    root_quat: np.ndarray | None = None
    features: np.ndarray | None = None
    root_6d_estimate: np.ndarray | None = None
    joints_rel_cam_estimate: np.ndarray | None = None

    def __post_init__(self):
        # Numeric fields to float32 (the device dtype); frames keep their dtype so that a
        # float video is reported by validate() instead of being silently truncated.
        for field in ("kp2d", "conf", "K", "R_wc", "t_wc"):
            object.__setattr__(self, field, np.asarray(getattr(self, field), dtype=np.float32))
        for field in _ESTIMATES:
            if getattr(self, field) is not None:
                object.__setattr__(self, field, np.asarray(getattr(self, field), dtype=np.float32))
        if self.frames is not None:
            object.__setattr__(self, "frames", np.asarray(self.frames))
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "joint_names", tuple(str(n) for n in self.joint_names))
        if self.image_size is not None:
            object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))

    @property
    def num_frames(self) -> int:
        return int(self.kp2d.shape[0])

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def validate(self, where: str | os.PathLike | None = None) -> VideoSample:
        """Check shapes and values; raise :class:`VideoFileError` naming ``where``."""
        where = where if where is not None else (self.source or self.name or "<video sample>")
        if self.kp2d.ndim != 3 or self.kp2d.shape[-1] != 2:
            raise VideoFileError(where, f"'kp2d' has shape {self.kp2d.shape}, expected (T, J, 2)")
        t, j = self.kp2d.shape[:2]
        if t < 1:
            raise VideoFileError(where, "sample has 0 frames")
        if j < 1:
            raise VideoFileError(where, "sample has 0 keypoints per frame")
        if len(self.joint_names) != j:
            raise VideoFileError(where, f"'joint_names' has {len(self.joint_names)} names but 'kp2d' has {j} joints")
        if len(set(self.joint_names)) != j:
            raise VideoFileError(where, "'joint_names' contains duplicates")
        expected = {"conf": (t, j), "K": (3, 3), "R_wc": (t, 3, 3), "t_wc": (t, 3)}
        if self.joints3d is not None:
            expected["joints3d"] = (t, NUM_BODIES, 3)
        if self.root_quat is not None:
            expected["root_quat"] = (t, 4)
        if self.features is not None and (self.features.ndim != 2 or self.features.shape[1] < 1):
            raise VideoFileError(where, f"'features' has shape {self.features.shape}, expected (T, F) with F >= 1")
        if self.features is not None:
            expected["features"] = (t, self.features.shape[1])
        if self.root_6d_estimate is not None:
            expected["root_6d_estimate"] = (t, 6)
        if self.joints_rel_cam_estimate is not None:
            expected["joints_rel_cam_estimate"] = (t, NUM_BODIES, 3)
        for key, shape in expected.items():
            arr = getattr(self, key)
            if arr.shape != shape:
                raise VideoFileError(where, f"'{key}' has shape {arr.shape}, expected {shape}")
        if self.frames is not None:
            f = self.frames
            if f.ndim != 4 or f.shape[0] != t or f.shape[-1] != 3:
                raise VideoFileError(where, f"'frames' has shape {f.shape}, expected ({t}, H, W, 3)")
            if f.dtype != np.uint8:
                raise VideoFileError(where, f"'frames' has dtype {f.dtype}, expected uint8")
            if self.image_size is not None and self.image_size != (f.shape[2], f.shape[1]):
                raise VideoFileError(
                    where,
                    f"'image_size' {self.image_size} (width, height) disagrees with frames {f.shape[2]}x{f.shape[1]}",
                )
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) < 1):
            raise VideoFileError(where, f"'image_size' must be (width, height) > 0, got {self.image_size}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise VideoFileError(where, f"fps must be positive, got {self.fps}")

        if not np.all(np.isfinite(self.conf)):
            raise VideoFileError(where, "'conf' has NaN/inf")
        if self.conf.min() < 0.0 or self.conf.max() > 1.0:
            raise VideoFileError(where, f"'conf' outside [0, 1] (min {self.conf.min()}, max {self.conf.max()})")
        bad = ~np.isfinite(self.kp2d).all(axis=-1)  # [T, J]
        if bad.any():
            seen = bad & (self.conf > 0)
            frame = int(np.flatnonzero((seen if seen.any() else bad).any(axis=-1))[0])
            if seen.any():
                problem = f"'kp2d' has NaN/inf where conf > 0 ({int(seen.sum())} keypoint(s), first at frame {frame})"
            else:
                problem = (
                    f"'kp2d' has NaN/inf at {int(bad.sum())} zero-confidence keypoint(s) (first at frame {frame}); "
                    "store a finite placeholder (0): NaN poisons masked arithmetic"
                )
            raise VideoFileError(where, problem)
        for key in ("K", "R_wc", "t_wc", *_ESTIMATES):
            arr = getattr(self, key)
            if arr is not None and not np.all(np.isfinite(arr)):
                raise VideoFileError(where, f"'{key}' has NaN/inf")
        if self.root_quat is not None:
            norm_err = np.abs(np.linalg.norm(self.root_quat.astype(np.float64), axis=-1) - 1.0).max()
            if norm_err > _ROTATION_TOL:
                raise VideoFileError(where, f"'root_quat' is not unit norm (max |norm - 1| {norm_err:.2g}; wxyz)")
        K = self.K
        if K[0, 0] <= 0 or K[1, 1] <= 0 or K[1, 0] != 0 or np.any(K[2] != (0.0, 0.0, 1.0)):
            raise VideoFileError(
                where, f"'K' is not an intrinsic matrix [[fx, s, cx], [0, fy, cy], [0, 0, 1]]: {K.tolist()}"
            )
        R = self.R_wc.astype(np.float64)
        ortho_err = np.abs(np.einsum("tji,tjk->tik", R, R) - np.eye(3)).max()
        det_err = np.abs(np.linalg.det(R) - 1.0).max()
        if ortho_err > _ROTATION_TOL or det_err > _ROTATION_TOL:
            raise VideoFileError(
                where,
                f"'R_wc' is not a rotation in every frame (|R^T R - I| {ortho_err:.2g}, |det R - 1| {det_err:.2g})",
            )
        return self


def encoder_output(sample: VideoSample, key: str, where: str | os.PathLike | None = None) -> np.ndarray:
    """``sample.<key>``, one of the arrays ``physhmr encoder features`` writes (``features``,
    ``root_6d_estimate``, ``joints_rel_cam_estimate``), or a :class:`VideoFileError` naming the
    shard and the command to run when it is missing."""
    value = getattr(sample, key)
    if value is None:
        where = where if where is not None else (sample.source or sample.name)
        raise VideoFileError(where, f"has no '{key}' (run `physhmr encoder features` on it first)")
    return value


def save_sample(path: str | os.PathLike, sample: VideoSample, *, compress: bool = False) -> Path:
    """Validate and write ``sample`` as an ``.npz`` shard, atomically (temporary file, then rename).

    ``compress`` uses zlib (smaller, slower to read; frames dominate the size).
    """
    path = Path(path)
    sample.validate(path)
    arrays: dict[str, np.ndarray] = {
        "kp2d": sample.kp2d,
        "conf": sample.conf,
        "K": sample.K,
        "R_wc": sample.R_wc,
        "t_wc": sample.t_wc,
        "fps": np.float64(sample.fps),
        "joint_names": np.array(sample.joint_names, dtype=str),
        "motion_name": np.array(sample.motion_name),
        "motion_source": np.array(sample.motion_source),
        "camera_id": np.array(sample.camera_id),
        "name": np.array(sample.name),
        "source": np.array(sample.source),
    }
    if sample.frames is not None:
        arrays["frames"] = sample.frames
    if sample.image_size is not None:
        arrays["image_size"] = np.array(sample.image_size, dtype=np.int64)
    if sample.joints3d is not None:
        arrays["joints3d"] = sample.joints3d
    if sample.root_quat is not None:
        arrays["root_quat"] = sample.root_quat
    if sample.features is not None:
        arrays["features"] = sample.features
    if sample.root_6d_estimate is not None:
        arrays["root_6d_estimate"] = sample.root_6d_estimate
    if sample.joints_rel_cam_estimate is not None:
        arrays["joints_rel_cam_estimate"] = sample.joints_rel_cam_estimate
    if sample.import_report is not None:
        arrays["import_report"] = np.array(json.dumps(sample.import_report, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:  # a file object: numpy adds no ".npz" to the temporary name
            (np.savez_compressed if compress else np.savez)(f, **arrays)
        os.replace(tmp, path)  # never leave a half-written shard behind
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_sample(path: str | os.PathLike, *, load_frames: bool = True) -> VideoSample:
    """Load a shard written by :func:`save_sample`; errors name the file and the problem.

    ``load_frames=False`` skips decoding the (large) frames array.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoFileError(path, "no such file")

    def text(data, key: str) -> str:
        return str(data[key]) if key in data.files else ""

    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            raise VideoFileError(path, "a single .npy array, not an .npz shard (written with np.save, not np.savez?)")
        with data:
            missing = [k for k in REQUIRED_KEYS if k not in data.files]
            if missing:
                raise VideoFileError(
                    path, f"not a video sample shard: missing key(s) {missing} (has {sorted(data.files)})"
                )
            numbers = {k: data[k] for k in _NUMERIC_KEYS if k in data.files}
            for key, arr in numbers.items():
                if arr.dtype.kind not in "biuf":
                    raise VideoFileError(path, f"'{key}' has dtype {arr.dtype}, expected real numbers")
            fps = numbers["fps"]
            if fps.size != 1:
                raise VideoFileError(path, f"'fps' must be a scalar, got shape {fps.shape}")
            names = np.asarray(data["joint_names"])
            if names.ndim != 1 or names.dtype.kind != "U":
                raise VideoFileError(path, f"'joint_names' must be a 1-D string array, got {names.dtype} {names.shape}")
            report = None
            if "import_report" in data.files:
                try:
                    report = json.loads(str(data["import_report"]))
                except (json.JSONDecodeError, RecursionError) as err:
                    raise VideoFileError(path, f"'import_report' is not valid JSON ({err})") from None
            image_size = None
            if "image_size" in numbers:
                size = numbers["image_size"]
                if size.shape != (2,):
                    raise VideoFileError(path, f"'image_size' has shape {size.shape}, expected (2,) (width, height)")
                if not np.isfinite(size).all():
                    raise VideoFileError(path, f"'image_size' has NaN/inf: {size.tolist()}")
                image_size = (int(size[0]), int(size[1]))
            sample = VideoSample(
                kp2d=numbers["kp2d"],
                conf=numbers["conf"],
                K=numbers["K"],
                R_wc=numbers["R_wc"],
                t_wc=numbers["t_wc"],
                fps=float(fps.reshape(())),
                joint_names=tuple(names.tolist()),
                frames=data["frames"] if (load_frames and "frames" in data.files) else None,
                image_size=image_size,
                joints3d=numbers.get("joints3d"),
                root_quat=numbers.get("root_quat"),
                features=numbers.get("features"),
                root_6d_estimate=numbers.get("root_6d_estimate"),
                joints_rel_cam_estimate=numbers.get("joints_rel_cam_estimate"),
                motion_name=text(data, "motion_name"),
                motion_source=text(data, "motion_source"),
                camera_id=text(data, "camera_id"),
                name=text(data, "name") or path.stem,
                source=text(data, "source") or str(path),
                import_report=report,
            )
    except VideoFileError:
        raise
    except NPZ_READ_ERRORS as err:
        raise VideoFileError(path, f"cannot read as .npz ({err})") from None
    return sample.validate(path)


def ray_keypoint_indices(joint_names: tuple[str, ...] | list[str]) -> np.ndarray:
    """[12] index into ``joint_names`` of each ray joint (order of ``RAY_BODIES``), -1 if absent."""
    body_of = {_KEYPOINT_TO_BODY[n]: i for i, n in enumerate(joint_names) if n in _KEYPOINT_TO_BODY}
    return np.array([body_of.get(BODY_NAMES[b], -1) for b in RAY_BODIES], dtype=np.int64)


def body_keypoint_indices(joint_names: tuple[str, ...] | list[str]) -> np.ndarray:
    """[24] index into ``joint_names`` of each body's keypoint (order of ``BODY_NAMES``), -1 if absent."""
    body_of = {_KEYPOINT_TO_BODY[n]: i for i, n in enumerate(joint_names) if n in _KEYPOINT_TO_BODY}
    return np.array([body_of.get(name, -1) for name in BODY_NAMES], dtype=np.int64)


def to_ray_keypoints(sample: VideoSample) -> tuple[np.ndarray, np.ndarray]:
    """The keypoints of the 12 ray joints, in the order of ``skeleton.RAY_BODIES``.

    Works for COCO-17, OpenPose BODY_25 and body-named keypoint sets (module docstring).
    Returns:
      kp2d: [T, 12, 2] float32 pixels (0 where missing).
      conf: [T, 12] float32; 0 for a ray joint the keypoint set lacks.
    """
    idx = ray_keypoint_indices(sample.joint_names)
    present = idx >= 0
    safe = np.where(present, idx, 0)
    kp2d = np.where(present[None, :, None], sample.kp2d[:, safe], 0.0).astype(np.float32)
    conf = np.where(present[None, :], sample.conf[:, safe], 0.0).astype(np.float32)
    return kp2d, conf
