"""Synthetic motions and videos built by hand (no rendering): test inputs for VideoLib and the vision env."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from physhmr_jax.geometry import camera as cam
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.skeleton import BODY_NAMES, mean_skeleton, standing_dof
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.library import MotionLib, build_motion_lib
from physhmr_jax.vision.shards import VideoSample

FPS = 30.0
W, H = 320, 240


def synthetic_clip(name: str, num_frames: int, yaw_rate: float) -> Clip:
    """The standing pose walking forward at 0.8 m/s while yawing, the left hip swinging."""
    from physhmr_jax.motion.retarget import ground_clip

    t = np.arange(num_frames) / FPS
    root_pos = np.stack([0.8 * t, 0.1 * t, np.full_like(t, 0.9)], -1)
    root_quat = np.asarray(rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.asarray(yaw_rate * t)))
    dof = np.tile(standing_dof(), (num_frames, 1))
    dof[:, 0] = 0.4 * np.sin(2 * np.pi * t)
    return ground_clip(Clip(name, FPS, root_pos, root_quat, dof, mean_skeleton()))


def synthetic_motion_lib() -> MotionLib:
    """Two clips: "walk" (40 frames) and "turn" (25 frames)."""
    return build_motion_lib([synthetic_clip("walk", 40, 0.5), synthetic_clip("turn", 25, -1.0)])


def synthetic_video(motion_lib: MotionLib, clip_id: int, num_frames: int, eye, name: str, feature_size: int = 8):
    """A video of clip ``clip_id``: its bodies projected exactly by a static camera at ``eye``,
    confidence 0.9, exact encoder estimates (root rotation, root-relative pose), and features
    that number the frames."""
    times = jnp.arange(num_frames) / FPS
    ref = motion_lib.state_at(jnp.full((num_frames,), clip_id), times)
    K = cam.intrinsics_from_fov(60.0, W, H)
    R_wc = cam.look_at(jnp.asarray(eye, jnp.float32), ref.root_pos[0])
    camera = cam.Camera(
        K=K,
        R_wc=jnp.broadcast_to(R_wc, (num_frames, 3, 3)),
        t_wc=jnp.broadcast_to(jnp.asarray(eye, jnp.float32), (num_frames, 3)),
    )
    kp2d, _ = cam.project(camera, ref.body_pos)
    # The encoder's estimate, here exact: camera-frame pelvis rotation R_wc^T R_root, 6D.
    R_cam = jnp.einsum("tji,tjk->tik", camera.R_wc, rot.quat_to_matrix(ref.root_quat))
    root_6d = jnp.concatenate([R_cam[..., :, 0], R_cam[..., :, 1]], axis=-1)
    # ... and its exact root-relative pose in the camera frame: R_wc^T (joints - pelvis).
    joints_rel_cam = jnp.einsum("tji,tnj->tni", camera.R_wc, ref.body_pos - ref.body_pos[:, :1])
    features = np.arange(num_frames * feature_size, dtype=np.float32).reshape(num_frames, feature_size)
    return VideoSample(
        kp2d=np.asarray(kp2d), conf=np.full((num_frames, len(BODY_NAMES)), 0.9), K=np.asarray(K),
        R_wc=np.asarray(camera.R_wc), t_wc=np.asarray(camera.t_wc), fps=FPS, joint_names=BODY_NAMES,
        joints3d=np.asarray(ref.body_pos), root_quat=np.asarray(ref.root_quat),
        features=features + 1000.0 * clip_id, root_6d_estimate=np.asarray(root_6d),
        joints_rel_cam_estimate=np.asarray(joints_rel_cam),
        motion_name=motion_lib.clip_names[clip_id], name=name,
    )  # fmt: skip
