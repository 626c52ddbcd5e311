"""VideoLib: the shards of a split packed into device arrays, with a jittable frame lookup.

The vision environment reads, per environment and control step, one frame of its video:
the 12 ray keypoints and confidences, the camera, the image features and the encoder's
root orientation estimate. :class:`VideoLib` holds all frames of all videos concatenated
along one axis (as :class:`~physhmr_jax.motion.library.MotionLib` holds clips), so
``frame_at(video_ids, times)`` is a handful of gathers inside the compiled step.

Every video is tied to the motion clip it shows (``video_clip_id``, an index into the
:class:`MotionLib` it was built against, matched by the shard's ``motion_name``): the env
resets the humanoid to that clip's reference state, the reward and the teacher read the
clip, and the student reads only the video.

Frames are looked up, not interpolated: a detector gives one set of keypoints per image.
The frame shown at time ``t`` is ``round(t * fps)``, clamped to the video.

``VideoLib`` is a ``flax.struct`` pytree: pass it into jitted functions as an argument,
never close over it, so one compiled step serves any video set of the same array shapes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.geometry.camera import Camera
from physhmr_jax.humanoid.skeleton import RAY_BODIES
from physhmr_jax.motion.library import MotionLib
from physhmr_jax.vision.shards import VideoFileError, VideoSample, encoder_output, load_sample, to_ray_keypoints

NUM_RAY_JOINTS = len(RAY_BODIES)  # 12


class VideoFrame(NamedTuple):
    """What a video shows at one time (leading dims: the batch of ``frame_at``)."""

    kp2d: jax.Array  # [..., 12, 2] pixels, ray-joint order (skeleton.RAY_BODIES); 0 where missing
    conf: jax.Array  # [..., 12] in [0, 1]; 0 = missing
    camera: Camera  # K [..., 3, 3], R_wc [..., 3, 3], t_wc [..., 3]
    features: jax.Array  # [..., F] image features of the frame
    root_quat_estimate: jax.Array  # [..., 4] wxyz, the encoder's world pelvis orientation estimate
    root_pos_estimate: jax.Array  # [..., 3] the kinematic baseline's world pelvis (zeros unless packed)
    frame: jax.Array  # [...] int32 frame index within the video


@struct.dataclass
class VideoLib:
    """Packed videos. Per-frame arrays have a leading axis over all frames of all videos."""

    # Per frame [N, ...].
    kp2d: jax.Array  # [N, 12, 2]
    conf: jax.Array  # [N, 12]
    R_wc: jax.Array  # [N, 3, 3]
    t_wc: jax.Array  # [N, 3]
    features: jax.Array  # [N, F]
    root_quat_estimate: jax.Array  # [N, 4] world, wxyz
    # [N, 3] world pelvis of the kinematic baseline (the encoder's pose, root on the pelvis
    # ray): packed with ``root_position=True`` for the rays-vs-3D-root ablation, else zeros.
    root_pos_estimate: jax.Array
    # Per video [V, ...].
    K: jax.Array  # [V, 3, 3]
    video_start: jax.Array  # int32 first frame index
    video_num_frames: jax.Array  # int32
    video_fps: jax.Array
    video_duration_s: jax.Array  # (num_frames - 1) / fps
    video_clip_id: jax.Array  # int32 index of the motion clip shown, in the MotionLib built against
    video_names: tuple[str, ...] = struct.field(pytree_node=False, default=())

    @property
    def num_videos(self) -> int:
        return int(self.video_start.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.kp2d.shape[0])

    @property
    def feature_size(self) -> int:
        return int(self.features.shape[-1])

    def sample(self, key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
        """``n`` (video id, time in seconds) pairs: videos uniformly, times uniform over each video."""
        key_video, key_time = jax.random.split(key)
        video_ids = jax.random.randint(key_video, (n,), 0, self.num_videos)
        times = jax.random.uniform(key_time, (n,)) * self.video_duration_s[video_ids]
        return video_ids, times

    def frame_index(self, video_ids: jax.Array, times: jax.Array) -> jax.Array:
        """[...] int32 frame of each video shown at ``times`` seconds: round(t * fps), clamped."""
        frame = jnp.round(times * self.video_fps[video_ids]).astype(jnp.int32)
        return jnp.clip(frame, 0, self.video_num_frames[video_ids] - 1)

    def frame_at(self, video_ids: jax.Array, times: jax.Array) -> VideoFrame:
        """The frame each video shows at ``times``. video_ids: [...] int, times: [...] seconds."""
        frame = self.frame_index(video_ids, times)
        i = self.video_start[video_ids] + frame
        camera = Camera(K=self.K[video_ids], R_wc=self.R_wc[i], t_wc=self.t_wc[i])
        return VideoFrame(
            kp2d=self.kp2d[i],
            conf=self.conf[i],
            camera=camera,
            features=self.features[i],
            root_quat_estimate=self.root_quat_estimate[i],
            root_pos_estimate=self.root_pos_estimate[i],
            frame=frame,
        )


def world_root_quat_estimate(sample: VideoSample, where: str | os.PathLike) -> np.ndarray:
    """[T, 4] world pelvis orientation from the encoder's camera-frame estimate: R_wc R_cam."""
    root_6d = encoder_output(sample, "root_6d_estimate", where)
    R_cam = np.asarray(rot.sixd_to_matrix(jnp.asarray(root_6d)), np.float64)
    R_world = np.einsum("tij,tjk->tik", sample.R_wc.astype(np.float64), R_cam)
    return np.asarray(rot.matrix_to_quat(jnp.asarray(R_world, jnp.float32)), np.float32)


def world_root_pos_estimate(sample: VideoSample, where: str | os.PathLike) -> np.ndarray:
    """[T, 3] the kinematic baseline's world pelvis: the encoder's root-relative pose placed
    with its root on the pelvis keypoint's ray, taken into the world."""
    from physhmr_jax.vision.encoder_features import kinematic_world_joints

    pose = encoder_output(sample, "joints_rel_cam_estimate", where)
    return kinematic_world_joints(pose, sample)[0][:, 0].astype(np.float32)


def build_video_lib(samples: Sequence[VideoSample], motion_lib: MotionLib, *, root_position: bool = False) -> VideoLib:
    """Pack ``samples`` (host numpy) into a :class:`VideoLib` tied to ``motion_lib``'s clips.

    Each sample must carry ``features`` and ``root_6d_estimate`` (``physhmr encoder
    features``; with ``root_position`` also ``joints_rel_cam_estimate``) and name a clip of
    ``motion_lib`` in ``motion_name`` that lasts at least as long as the video; errors name
    the shard and the problem.
    """
    if not samples:
        raise ValueError("build_video_lib: no video samples")
    clip_index = {name: i for i, name in enumerate(motion_lib.clip_names)}
    durations = np.asarray(motion_lib.clip_duration_s)
    keys = ("kp2d", "conf", "R_wc", "t_wc", "features", "root", "root_pos")
    per_frame: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    K, starts, counts, fps, clip_ids, names = [], [], [], [], [], []
    feature_size = None
    start = 0
    for sample in samples:
        where = sample.source or sample.name
        encoder_output(sample, "features", where)
        if feature_size is None:
            feature_size = sample.features.shape[1]
        elif sample.features.shape[1] != feature_size:
            raise VideoFileError(
                where, f"'features' has {sample.features.shape[1]} columns, the other shards {feature_size}"
            )
        if sample.motion_name not in clip_index:
            raise VideoFileError(
                where,
                f"shows motion {sample.motion_name!r}, which is not in the motion set "
                f"({len(clip_index)} clips: {', '.join(sorted(clip_index)[:5])}{', ...' if len(clip_index) > 5 else ''})",
            )
        clip_id = clip_index[sample.motion_name]
        duration = (sample.num_frames - 1) / sample.fps
        if duration > durations[clip_id] + 1e-3:
            raise VideoFileError(
                where, f"lasts {duration:.3f} s but its motion {sample.motion_name!r} only {durations[clip_id]:.3f} s"
            )
        kp2d, conf = to_ray_keypoints(sample)
        per_frame["kp2d"].append(kp2d)
        per_frame["conf"].append(conf)
        per_frame["R_wc"].append(sample.R_wc)
        per_frame["t_wc"].append(sample.t_wc)
        per_frame["features"].append(sample.features)
        per_frame["root"].append(world_root_quat_estimate(sample, where))
        per_frame["root_pos"].append(
            world_root_pos_estimate(sample, where) if root_position else np.zeros((sample.num_frames, 3), np.float32)
        )
        K.append(sample.K)
        starts.append(start)
        counts.append(sample.num_frames)
        fps.append(sample.fps)
        clip_ids.append(clip_id)
        names.append(sample.name)
        start += sample.num_frames

    def cat(key, dtype=np.float32):
        return jnp.asarray(np.concatenate(per_frame[key]).astype(dtype))

    counts_np = np.asarray(counts, np.int32)
    fps_np = np.asarray(fps, np.float32)
    return VideoLib(
        kp2d=cat("kp2d"),
        conf=cat("conf"),
        R_wc=cat("R_wc"),
        t_wc=cat("t_wc"),
        features=cat("features"),
        root_quat_estimate=cat("root"),
        root_pos_estimate=cat("root_pos"),
        K=jnp.asarray(np.stack(K).astype(np.float32)),
        video_start=jnp.asarray(np.asarray(starts, np.int32)),
        video_num_frames=jnp.asarray(counts_np),
        video_fps=jnp.asarray(fps_np),
        video_duration_s=jnp.asarray((counts_np - 1) / fps_np),
        video_clip_id=jnp.asarray(np.asarray(clip_ids, np.int32)),
        video_names=tuple(names),
    )


def load_video_lib(
    paths: Sequence[str | os.PathLike], motion_lib: MotionLib, *, root_position: bool = False
) -> VideoLib:
    """Read the shards at ``paths`` (frames skipped) and pack them against ``motion_lib``."""
    samples = [load_sample(Path(p), load_frames=False) for p in paths]
    return build_video_lib(samples, motion_lib, root_position=root_position)


__all__ = [
    "NUM_RAY_JOINTS",
    "VideoFrame",
    "VideoLib",
    "build_video_lib",
    "load_video_lib",
    "world_root_pos_estimate",
    "world_root_quat_estimate",
]
