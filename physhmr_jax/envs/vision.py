"""The vision environment: the MJX humanoid driven from a video (PhysHMR's student task).

Each environment plays one video of a :class:`~physhmr_jax.vision.video_lib.VideoLib`. The
humanoid starts at the reference state of the motion clip the video shows (at the video's
first frame, or at a random frame in training), the imitation env
(:class:`~physhmr_jax.envs.imitation.ImitationEnv`, absolute PD targets) steps it, and the
reward and the termination rule read the motion, as for the expert. The student sees only
its own body and the video.

Student observation (``observation_size`` = 358 + F + 6 + 48; 924 with the 512-D encoder,
PhysHMR's ``obs_v``), for the video frame of the step's target time t + dt (the frame the
expert's reference frame corresponds to):
  * proprioception [358] (:func:`physhmr_jax.envs.imitation.proprioception`);
  * the frame's image features [F];
  * the encoder's root orientation estimate [6]: the world pelvis rotation estimate
    (``VideoLib.root_quat_estimate``) in the simulated root's heading frame, 6D;
  * pixel-as-ray [48]: per ray joint, the offset of the simulated joint from the ray of its
    keypoint, heading frame (12 x 3), then the 12 confidences
    (:func:`physhmr_jax.geometry.rays.ray_observation`).
Ablations (``env.ablation``, PhysHMR's input study; the size stays the same so that every
variant has the same networks): ``no_rays`` zeroes the ray block, ``no_features`` the image
features, ``root_position`` replaces the ray block by the offset of a 3D root estimate (the
kinematic baseline's pelvis: the encoder's pose placed on the pelvis ray,
``VideoLib.root_pos_estimate``) from the simulated pelvis, heading frame, then zeros.

No ground truth enters it: the motion only sets the start state (as a video's first frame
would), the reward and the termination (``tests/test_vision_env.py`` perturbs the motion
and checks the observation is unchanged).

For distillation the state also carries what the expert would see and need, computed from
the same step: ``teacher_obs`` (the privileged imitation observation) and
``residual_offset_next`` (what a residual teacher's zero action targets at t + dt: the
reference dof, led along its velocity by the teacher's ``target_lead_s``).
These are fields of the state, never of ``obs``.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
from flax import struct
from jax import Array

from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import imitation
from physhmr_jax.envs.imitation import EnvState, ImitationEnv
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.geometry.rays import ray_observation
from physhmr_jax.humanoid.simulation import Humanoid
from physhmr_jax.motion.library import MotionLib
from physhmr_jax.vision.video_lib import NUM_RAY_JOINTS, VideoLib

ROOT_ESTIMATE_SIZE = 6
RAY_OBSERVATION_SIZE = 4 * NUM_RAY_JOINTS  # 48: 12 offsets x 3, 12 confidences
ABLATIONS = ("none", "no_rays", "no_features", "root_position")
# Per-step metric: 1 when the step ran past the video's last frame (truncation).
VIDEO_END = "video_end"


def default_config() -> ml_collections.ConfigDict:
    """The vision env's settings: the imitation env's (reward, termination, humanoid
    actions; ``action_mode`` must stay ``absolute``) and where episodes start."""
    config = imitation.default_config()
    config.unlock()
    # "random": a uniformly drawn frame of a random video (training); "first": frame 0.
    config.start = "random"
    # Input ablation (module docstring): "none", "no_rays", "no_features" or "root_position".
    config.ablation = "none"
    config.lock()
    return config


def observation_size(feature_size: int) -> int:
    """Size of the student observation for image features of ``feature_size``: 358 + F + 6 + 48."""
    return imitation.PROPRIOCEPTION_SIZE + feature_size + ROOT_ESTIMATE_SIZE + RAY_OBSERVATION_SIZE


class VisionData(NamedTuple):
    """The vision env's ``env_data``: the motions (reward, start state, teacher) and the videos."""

    motion_lib: MotionLib
    video_lib: VideoLib


@struct.dataclass
class VisionState(EnvState):
    """An imitation state (``obs`` is the student's) plus the video and the teacher's view."""

    video_id: Array = None  # [] int32
    teacher_obs: Array = None  # [934 by default] the expert's privileged observation
    residual_offset_next: Array = None  # [69] residual offset at t + dt (the teacher's, by its config)


class VisionEnv:
    """PhysHMR's student task (one environment, pure functions; see the module docstring)."""

    def __init__(self, humanoid: Humanoid, feature_size: int, config: ml_collections.ConfigDict | None = None):
        self.config = config if config is not None else default_config()
        if self.config.action_mode != "absolute":
            raise ConfigError(
                f"the vision env takes absolute PD targets (a residual about the reference would "
                f"show the student the motion); got env.action_mode={self.config.action_mode!r}"
            )
        if self.config.start not in ("random", "first"):
            raise ConfigError(f"env.start must be 'random' or 'first', not {self.config.start!r}")
        if self.config.ablation not in ABLATIONS:
            raise ConfigError(f"env.ablation must be one of {list(ABLATIONS)}, not {self.config.ablation!r}")
        self.imitation = ImitationEnv(humanoid, self.config)
        self.feature_size = int(feature_size)
        self.dt = self.imitation.dt

    @property
    def observation_size(self) -> int:
        return observation_size(self.feature_size)

    @property
    def teacher_observation_size(self) -> int:
        return self.imitation.observation_size

    @property
    def action_size(self) -> int:
        return self.imitation.action_size

    # ----------------------------------------------------------------------------------

    def student_observation(self, data, teacher_obs: Array, video_lib: VideoLib, video_id: Array, time_s: Array):
        """[observation_size] from the simulated ``data`` and the video's frame at ``time_s + dt``."""
        body = imitation.body_kinematics(data)
        frame = video_lib.frame_at(video_id, time_s + self.dt)
        heading_inv = rot.heading_quat_inv(body.quat[0])
        root_estimate = rot.quat_to_6d(rot.quat_mul(heading_inv, frame.root_quat_estimate))
        rays = ray_observation(body.pos, body.quat[0], frame.camera, frame.kp2d, frame.conf)
        features = frame.features
        if self.config.ablation == "no_rays":
            rays = jnp.zeros_like(rays)
        elif self.config.ablation == "no_features":
            features = jnp.zeros_like(features)
        elif self.config.ablation == "root_position":
            offset = rot.quat_rotate(heading_inv, frame.root_pos_estimate - body.pos[0])
            rays = jnp.concatenate([offset, jnp.zeros(RAY_OBSERVATION_SIZE - 3, offset.dtype)])
        # The proprioception is the first block of the teacher's observation: computed once.
        proprioception = teacher_obs[: imitation.PROPRIOCEPTION_SIZE]
        return jnp.concatenate([proprioception, features, root_estimate, rays])

    def _vision_state(self, inner: EnvState, env_data: VisionData, video_id: Array) -> VisionState:
        video_lib = env_data.video_lib
        ref_next = env_data.motion_lib.state_at(inner.clip_id, inner.time_s + self.dt)
        obs = self.student_observation(inner.data, inner.obs, video_lib, video_id, inner.time_s)
        return VisionState(
            **{f.name: getattr(inner, f.name) for f in dataclasses.fields(EnvState)},
            video_id=video_id,
            teacher_obs=inner.obs,
            residual_offset_next=self.imitation.residual_offset(ref_next),
        ).replace(obs=obs)

    def sample_start(self, key: Array, video_lib: VideoLib) -> tuple[Array, Array, Array]:
        """(key, video_id, time_s): a random video at a random frame (``start``: random) or
        frame 0, leaving at least one step of video."""
        key, key_video, key_frame = jax.random.split(key, 3)
        video_id = jax.random.randint(key_video, (), 0, video_lib.num_videos)
        last = jnp.maximum(video_lib.video_num_frames[video_id] - 2, 0)
        frame = jax.random.randint(key_frame, (), 0, last + 1) if self.config.start == "random" else 0
        return key, video_id, (frame / video_lib.video_fps[video_id]).astype(jnp.float32)

    def reset(self, key: Array, env_data: VisionData) -> VisionState:
        key, video_id, time_s = self.sample_start(key, env_data.video_lib)
        return self.reset_to(key, env_data, video_id, time_s)

    def reset_to(self, key: Array, env_data: VisionData, video_id: Array, time_s: Array) -> VisionState:
        """Start at ``time_s`` of video ``video_id``: the reference state of its motion then."""
        video_id = jnp.asarray(video_id, jnp.int32)
        clip_id = env_data.video_lib.video_clip_id[video_id]
        inner = self.imitation.reset_to(key, env_data.motion_lib, clip_id, time_s)
        inner = inner.replace(metrics={**inner.metrics, VIDEO_END: jnp.zeros((), jnp.float32)})
        return self._vision_state(inner, env_data, video_id)

    def step(self, state: VisionState, action: Array, env_data: VisionData) -> VisionState:
        """One control step; truncated also when the video has no frame for the next step."""
        inner = self.imitation.step(state, action, env_data.motion_lib)
        video_lib = env_data.video_lib
        video_end = inner.time_s + self.dt > video_lib.video_duration_s[state.video_id] + 1e-3
        truncated = jnp.maximum(inner.truncated, video_end * (1.0 - inner.terminated))
        inner = inner.replace(truncated=truncated, metrics={**inner.metrics, VIDEO_END: video_end.astype(jnp.float32)})
        return self._vision_state(inner, env_data, state.video_id)


__all__ = [
    "RAY_OBSERVATION_SIZE",
    "ROOT_ESTIMATE_SIZE",
    "VIDEO_END",
    "VisionData",
    "VisionEnv",
    "VisionState",
    "default_config",
    "observation_size",
]
