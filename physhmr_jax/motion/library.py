"""MotionLib: every clip packed into device arrays, with jittable sampling and lookup.

Clips are concatenated along one frame axis. At build time the library runs forward
kinematics once for all frames and precomputes velocities by finite differences, so
``state_at`` is only gathers, lerps and slerps: cheap enough to call for thousands of
environments every control step.

``MotionLib`` is a ``flax.struct`` pytree: pass it into jitted functions as an argument
(its arrays are leaves), never close over it, so one compiled step serves any motion set
of the same size.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.kinematics import forward_kinematics
from physhmr_jax.humanoid.skeleton import NUM_BODIES
from physhmr_jax.motion.clip import Clip


class MotionState(NamedTuple):
    """Reference state of the humanoid at one time of one clip (leading dims: batch)."""

    root_pos: jax.Array  # [..., 3] metres, world
    root_quat: jax.Array  # [..., 4] wxyz
    root_lin_vel: jax.Array  # [..., 3] m/s, world
    root_ang_vel: jax.Array  # [..., 3] rad/s, world
    dof: jax.Array  # [..., 69] radians
    dof_vel: jax.Array  # [..., 69] rad/s
    body_pos: jax.Array  # [..., 24, 3]
    body_quat: jax.Array  # [..., 24, 4]
    body_lin_vel: jax.Array  # [..., 24, 3]
    body_ang_vel: jax.Array  # [..., 24, 3] world frame


@struct.dataclass
class MotionLib:
    """Packed clips. Per-frame arrays have a leading axis over all frames of all clips."""

    # Per frame [F, ...].
    root_pos: jax.Array
    root_quat: jax.Array
    dof: jax.Array
    dof_vel: jax.Array
    body_pos: jax.Array
    body_quat: jax.Array
    body_lin_vel: jax.Array
    body_ang_vel: jax.Array
    # Per clip [C, ...].
    clip_start: jax.Array  # int32 first frame index
    clip_num_frames: jax.Array  # int32
    clip_fps: jax.Array
    clip_duration_s: jax.Array
    clip_weight: jax.Array  # sampling probability (sums to 1)
    clip_offsets: jax.Array  # [C, 24, 3] skeleton of each clip
    # [C, S] within each clip, the probability of a start in each of S equal segments of its
    # start range (each row sums to 1); S = 1 (the default) is uniform over the clip.
    segment_weight: jax.Array
    clip_names: tuple[str, ...] = struct.field(pytree_node=False, default=())

    @property
    def num_clips(self) -> int:
        return int(self.clip_start.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.root_pos.shape[0])

    @property
    def num_segments(self) -> int:
        return int(self.segment_weight.shape[1])

    def sample(self, key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
        """``n`` (clip id, time in seconds) pairs: clips by ``clip_weight``, times uniform
        (with S > 1 segments: a segment by ``segment_weight``, uniform within it)."""
        key_clip, key_time = jax.random.split(key)
        clip_ids = jax.random.choice(key_clip, self.num_clips, (n,), p=self.clip_weight)
        if self.num_segments > 1:  # static: S = 1 draws exactly as before segments existed
            key_time, key_segment = jax.random.split(key_time)
        fraction = jax.random.uniform(key_time, (n,))
        if self.num_segments > 1:
            logits = jnp.log(jnp.maximum(self.segment_weight[clip_ids], 1e-30))
            segment = jax.random.categorical(key_segment, logits, axis=-1)
            fraction = (segment + fraction) / self.num_segments
        times = fraction * self.clip_duration_s[clip_ids]
        return clip_ids, times

    def sample_starts(self, key: jax.Array, n: int, dt: float) -> tuple[jax.Array, jax.Array]:
        """``n`` (clip id, time) starts of a step of ``dt`` seconds: as ``sample``, with the
        times uniform over [0, duration - dt] so that t + dt stays in the clip (reference state
        initialisation and the motion prior's transitions draw from this one rule)."""
        clip_ids, times = self.sample(key, n)
        duration = self.clip_duration_s[clip_ids]
        return clip_ids, times * jnp.maximum(duration - dt, 0.0) / duration

    def state_at(self, clip_ids: jax.Array, times: jax.Array) -> MotionState:
        """Interpolated reference state. clip_ids: [...] int, times: [...] seconds.

        Times are clamped to each clip's [0, duration]; positions, angles and velocities are
        interpolated linearly, rotations by slerp.
        """
        fps = self.clip_fps[clip_ids]
        n = self.clip_num_frames[clip_ids]
        t = jnp.clip(times, 0.0, self.clip_duration_s[clip_ids]) * fps
        f0 = jnp.clip(jnp.floor(t).astype(jnp.int32), 0, n - 1)
        f1 = jnp.minimum(f0 + 1, n - 1)
        alpha = (t - f0)[..., None]
        i0 = self.clip_start[clip_ids] + f0
        i1 = self.clip_start[clip_ids] + f1

        def lerp_flat(x):
            a = alpha.reshape(alpha.shape[:-1] + (1,) * (x.ndim - 1))
            return x[i0] * (1.0 - a) + x[i1] * a

        root_quat = rot.quat_slerp(self.root_quat[i0], self.root_quat[i1], alpha[..., 0])
        body_quat = rot.quat_slerp(
            self.body_quat[i0], self.body_quat[i1], jnp.broadcast_to(alpha, alpha.shape[:-1] + (NUM_BODIES,))
        )
        body_lin_vel = lerp_flat(self.body_lin_vel)
        body_ang_vel = lerp_flat(self.body_ang_vel)
        return MotionState(
            root_pos=lerp_flat(self.root_pos),
            root_quat=root_quat,
            root_lin_vel=body_lin_vel[..., 0, :],
            root_ang_vel=body_ang_vel[..., 0, :],
            dof=lerp_flat(self.dof),
            dof_vel=lerp_flat(self.dof_vel),
            body_pos=lerp_flat(self.body_pos),
            body_quat=body_quat,
            body_lin_vel=body_lin_vel,
            body_ang_vel=body_ang_vel,
        )


def _finite_difference(x: np.ndarray, fps: float) -> np.ndarray:
    """Forward differences, the last frame repeating the previous velocity."""
    v = np.diff(x, axis=0) * fps
    return np.concatenate([v, v[-1:]], axis=0)


_fk = jax.jit(forward_kinematics)


def build_motion_lib(clips: list[Clip], *, weights: str | np.ndarray = "duration") -> MotionLib:
    """Pack clips (host numpy) into a :class:`MotionLib` of device arrays.

    Args:
      clips: retargeted clips; they may have different skeletons and frame rates.
      weights: "duration" (sample clips in proportion to their length), "uniform", or an
        explicit [C] array.
    """
    if not clips:
        raise ValueError("build_motion_lib needs at least one clip")
    per_frame: dict[str, list[np.ndarray]] = {
        k: []
        for k in ("root_pos", "root_quat", "dof", "dof_vel", "body_pos", "body_quat", "body_lin_vel", "body_ang_vel")
    }
    for clip in clips:
        clip.validate()
        body_pos, body_quat = _fk(
            jnp.asarray(clip.root_pos_m, jnp.float32),
            jnp.asarray(clip.root_quat, jnp.float32),
            jnp.asarray(clip.dof, jnp.float32),
            jnp.asarray(clip.skeleton.offsets_m, jnp.float32),
        )
        body_pos, body_quat = np.asarray(body_pos, np.float64), np.asarray(body_quat, np.float64)
        # Make consecutive quaternions lie in one hemisphere so slerp and differences are short.
        for f in range(1, body_quat.shape[0]):
            flip = np.sum(body_quat[f] * body_quat[f - 1], axis=-1) < 0
            body_quat[f][flip] *= -1
        ang_vel = np.asarray(
            rot.angular_velocity(jnp.asarray(body_quat[:-1]), jnp.asarray(body_quat[1:]), 1.0 / clip.fps)
        )
        per_frame["root_pos"].append(clip.root_pos_m)
        per_frame["root_quat"].append(body_quat[:, 0])
        per_frame["dof"].append(clip.dof)
        per_frame["dof_vel"].append(_finite_difference(clip.dof, clip.fps))
        per_frame["body_pos"].append(body_pos)
        per_frame["body_quat"].append(body_quat)
        per_frame["body_lin_vel"].append(_finite_difference(body_pos, clip.fps))
        per_frame["body_ang_vel"].append(np.concatenate([ang_vel, ang_vel[-1:]], axis=0))
    lengths = np.array([c.num_frames for c in clips], dtype=np.int32)
    durations = np.array([c.duration_s for c in clips], dtype=np.float32)
    if isinstance(weights, str):
        if weights == "duration":
            w = durations.astype(np.float64)
        elif weights == "uniform":
            w = np.ones(len(clips))
        else:
            raise ValueError(f"unknown clip weighting {weights!r} (use 'duration', 'uniform' or an array)")
    else:
        w = np.asarray(weights, np.float64)
    w = w / w.sum()
    f32 = lambda x: jnp.asarray(np.concatenate(x, axis=0), jnp.float32)
    return MotionLib(
        root_pos=f32(per_frame["root_pos"]),
        root_quat=f32(per_frame["root_quat"]),
        dof=f32(per_frame["dof"]),
        dof_vel=f32(per_frame["dof_vel"]),
        body_pos=f32(per_frame["body_pos"]),
        body_quat=f32(per_frame["body_quat"]),
        body_lin_vel=f32(per_frame["body_lin_vel"]),
        body_ang_vel=f32(per_frame["body_ang_vel"]),
        clip_start=jnp.asarray(np.concatenate([[0], np.cumsum(lengths)[:-1]]), jnp.int32),
        clip_num_frames=jnp.asarray(lengths),
        clip_fps=jnp.asarray([c.fps for c in clips], jnp.float32),
        clip_duration_s=jnp.asarray(durations),
        clip_weight=jnp.asarray(w, jnp.float32),
        clip_offsets=jnp.asarray(np.stack([c.skeleton.offsets_m for c in clips]), jnp.float32),
        segment_weight=jnp.ones((len(clips), 1), jnp.float32),
        clip_names=tuple(c.name for c in clips),
    )
