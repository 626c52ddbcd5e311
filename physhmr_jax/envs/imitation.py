"""Motion imitation environment: an MJX humanoid tracks reference clips (PHC's expert task).

The policy sets 69 PD targets at 30 Hz; the humanoid is rewarded for matching the
reference body positions, rotations and velocities of a :class:`MotionLib` clip and is
reported as terminated when any body drifts more than ``termination_distance_m`` from the
reference (PHC ``humanoid_im.py``: ``compute_imitation_reward``,
``compute_humanoid_im_reset``, ``compute_imitation_observations_v6``).

Shape of the code (mujoco_playground's ``MjxEnv``):
  * ``ImitationEnv.reset(key, motion_lib) -> EnvState`` and
    ``ImitationEnv.step(state, action, motion_lib) -> EnvState`` are pure, single-env
    functions; ``make_vmapped(env)`` jits their ``vmap`` over a batch of environments.
    The motion library is an argument, never closed over, so one compiled step serves
    any motion set with the same array shapes.
  * The env itself never resets: ``step`` reports ``terminated`` (a body too far from the
    reference) and ``truncated`` (the clip ran out) and goes on stepping. Training wraps
    it (:func:`physhmr_jax.envs.wrappers.wrap_for_training`: episode length, auto-reset,
    NaN reset, episode statistics); evaluation steps the plain env.
  * One ``_reward_<term>`` method per term, summed with ``config.reward_scales`` and
    logged (scaled) as ``metrics["reward/<term>"]``.

Observation (``observation_size`` = 358 + 576 * num_future_frames; 934 by default):
  * ``proprioception(data)`` [358], PHC's self observation, everything in the root's
    heading frame (world z-rotation that makes the pelvis face +x):
    root height 1 | body positions relative to the root, bodies 1..23, 23x3 |
    body rotations 24x6 (6D: first two rotation-matrix columns, ``rot.quat_to_6d``) |
    body linear velocities 24x3 | body angular velocities 24x3.
  * ``reference_observation(data, ref)`` [576 per future frame], PHC's v6 task
    observation, per future frame k = 1..K (reference at ``time_s + k * dt``), heading
    frame of the *current* root:
    ref - sim body positions 24x3 | rotation differences ``ref * sim^-1`` as 6D 24x6 |
    ref - sim linear velocities 24x3 | ref - sim angular velocities 24x3 |
    reference body positions relative to the current root 24x3 |
    reference body rotations 24x6.

Body quantities come from ``mjx.Data``: ``xpos[1:]``, ``xquat[1:]`` and velocities from
``cvel`` (MuJoCo's com-based spatial velocity: ``cvel[:, :3]`` is the world angular
velocity, ``cvel[:, 3:]`` the linear velocity of the point at the root subtree's centre of
mass moving with the body, so a body origin's velocity is ``v + w x (xpos - subtree_com)``,
as ``mj_objectVelocity`` computes it). ``mjx.step`` leaves these at the state *before* its
last integration, so after the physics substeps the env recomputes kinematics, com
positions and com velocities (cheap, no collision or solver) so that every readout
belongs to the final ``qpos``/``qvel``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import struct
from jax import Array

from physhmr_jax.config_io import ConfigError
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.quiet_mjx import mjx
from physhmr_jax.humanoid.simulation import Humanoid, pd_step, qpos_qvel_from_state
from physhmr_jax.humanoid.skeleton import NUM_BODIES, NUM_DOF
from physhmr_jax.motion.library import MotionLib, MotionState

# MuJoCo body index of the pelvis (body 0 is the world); every humanoid body has it as root.
ROOT_BODY_ID = 1
PROPRIOCEPTION_SIZE = 1 + (NUM_BODIES - 1) * 3 + NUM_BODIES * 6 + NUM_BODIES * 3 + NUM_BODIES * 3  # 358
REFERENCE_FRAME_SIZE = NUM_BODIES * (3 + 6 + 3 + 3 + 3 + 6)  # 576 per future frame
ACTION_SIZE = NUM_DOF  # 69
# Slack on the clip-end test: motion time accumulates float32 steps of dt.
_CLIP_END_TOLERANCE_S = 1e-3
REWARD_TERMS = ("pos", "rot", "vel", "ang_vel", "power", "root_pos")
# Per-step metrics this env publishes (besides ``reward/<term>``).
BODY_DISTANCE_MEAN = "body_distance_mean_m"  # mean over bodies of |sim - reference|
BODY_DISTANCE_MAX = "body_distance_max_m"


def default_config() -> ml_collections.ConfigDict:
    """Settings of :class:`ImitationEnv` (PHC's values where it has them)."""
    config = ml_collections.ConfigDict(
        {
            # Training episodes: 10 s at 30 Hz (read by the episode wrapper); an episode
            # also ends (truncated) when the clip runs out.
            "episode_length_steps": 300,
            # Training reset: any body farther than this from the reference (PHC).
            "termination_distance_m": 0.25,
            # reward = sum_k scale_k * term_k; the power term is sum |tau * qdot| (W), so
            # its scale is the (negative) PHC power coefficient.
            # root_pos (not PHC's; 0 = off) rewards the pelvis position alone, the drift that
            # fails tracked clips (docs/expert.md).
            "reward_scales": {"pos": 0.5, "rot": 0.3, "vel": 0.1, "ang_vel": 0.1, "power": -0.0005, "root_pos": 0.0},
            # term = exp(-coefficient * mean squared error) (PHC k_pos, k_rot, k_vel, k_ang_vel);
            # root_pos: exp(-coefficient * |pelvis - reference pelvis|^2).
            "reward_coefficients": {"pos": 100.0, "rot": 10.0, "vel": 0.1, "ang_vel": 0.1, "root_pos": 20.0},
            # What an action means (:meth:`ImitationEnv.action_to_targets`), both clipped to
            # the joint range:
            #   "absolute" (PHC): PD target = clip(action, -1, 1) * action_scale;
            #   "residual": PD target = residual offset + clip(action, -1, 1) * residual_scale
            #     * action_scale, the offset being the reference dof at the step's target time
            #     t + dt plus target_lead_s times the reference dof velocity there.
            # action_scale of the 3 hinges of a body = min(factor * max |limit| over the
            # body's hinges, max_rad) (PHC ``_build_pd_action_offset_scale``, offset 0).
            "action_mode": "absolute",
            "residual_scale": 0.5,
            # Velocity lead of the residual offset (s): the PD servo lags its target, so a
            # target ahead along the reference velocity holds the reference longer (zero
            # actions on the CMU walks: 24-26 frames to PHC's failure at 0, 46-48 at 0.2;
            # docs/expert.md). 0 = PHC-like residual about the reference pose.
            "target_lead_s": 0.0,
            "action_scale_factor": 1.2,
            "action_scale_max_rad": float(np.pi),
            "clip_actions": True,
            # Reference frames (at t + dt, t + 2 dt, ...) in the privileged observation.
            "num_future_frames": 1,
            # Reference state initialisation noise (PHC uses none).
            "init_dof_noise_rad": 0.0,
            "init_dof_vel_noise_rad_s": 0.0,
            # Training only (envs/assist.py): a spring-damper wrench on the pelvis towards the
            # reference pelvis, its level falling from 1 to 0 over this many env steps per
            # seed (0 = no assist); gains at level 1.
            "assist_decay_env_steps": 0,
            "assist_pos_kp": 1000.0,
            "assist_pos_kd": 100.0,
            "assist_rot_kp": 100.0,
            "assist_rot_kd": 10.0,
        }
    )
    config.lock()
    return config


def observation_size(config: ml_collections.ConfigDict) -> int:
    """Size of the policy observation for ``config``: 358 + 576 per future reference frame."""
    return PROPRIOCEPTION_SIZE + REFERENCE_FRAME_SIZE * config.num_future_frames


class BodyKinematics(NamedTuple):
    """World-frame state of the 24 bodies (pelvis first)."""

    pos: Array  # [24, 3] metres
    quat: Array  # [24, 4] wxyz
    lin_vel: Array  # [24, 3] m/s of each body origin
    ang_vel: Array  # [24, 3] rad/s


def body_kinematics(data: mjx.Data) -> BodyKinematics:
    """Body positions, rotations and velocities from ``data`` (kinematics and com_vel done)."""
    pos = data.xpos[ROOT_BODY_ID:]
    ang_vel = data.cvel[ROOT_BODY_ID:, :3]
    lin_vel_at_com = data.cvel[ROOT_BODY_ID:, 3:]
    lin_vel = lin_vel_at_com + jnp.cross(ang_vel, pos - data.subtree_com[ROOT_BODY_ID])
    return BodyKinematics(pos=pos, quat=data.xquat[ROOT_BODY_ID:], lin_vel=lin_vel, ang_vel=ang_vel)


def _heading_frame(root_quat: Array) -> Array:
    """[4] quaternion taking world vectors into the root's heading frame."""
    return rot.heading_quat_inv(root_quat)


def proprioception_from_bodies(body: BodyKinematics) -> Array:
    """[358] PHC self observation (layout in the module docstring)."""
    heading_inv = _heading_frame(body.quat[0])
    root_pos = body.pos[0]
    local_pos = rot.quat_rotate(heading_inv, body.pos[1:] - root_pos)
    local_rot = rot.quat_to_6d(rot.quat_mul(heading_inv, body.quat))
    lin_vel = rot.quat_rotate(heading_inv, body.lin_vel)
    ang_vel = rot.quat_rotate(heading_inv, body.ang_vel)
    return jnp.concatenate(
        [root_pos[2:3], local_pos.reshape(-1), local_rot.reshape(-1), lin_vel.reshape(-1), ang_vel.reshape(-1)]
    )


def proprioception(data: mjx.Data) -> Array:
    """[358] proprioception of one humanoid (shared with the vision policy)."""
    return proprioception_from_bodies(body_kinematics(data))


def reference_observation_from_bodies(body: BodyKinematics, ref: MotionState) -> Array:
    """[576 * K] privileged reference observation; ``ref`` fields have a leading [K] axis.

    A single-frame ``MotionState`` (``body_pos`` [24, 3]) counts as K = 1.
    """
    ref_pos = ref.body_pos.reshape(-1, NUM_BODIES, 3)
    ref_quat = ref.body_quat.reshape(-1, NUM_BODIES, 4)
    ref_lin_vel = ref.body_lin_vel.reshape(-1, NUM_BODIES, 3)
    ref_ang_vel = ref.body_ang_vel.reshape(-1, NUM_BODIES, 3)
    heading_inv = _heading_frame(body.quat[0])
    heading = rot.quat_conj(heading_inv)

    def to_heading(v):
        return rot.quat_rotate(heading_inv, v)

    diff_pos = to_heading(ref_pos - body.pos)
    # World rotation difference, then a change of basis into the heading frame.
    diff_rot_world = rot.quat_mul(ref_quat, rot.quat_conj(body.quat))
    diff_rot = rot.quat_mul(rot.quat_mul(heading_inv, diff_rot_world), heading)
    diff_lin_vel = to_heading(ref_lin_vel - body.lin_vel)
    diff_ang_vel = to_heading(ref_ang_vel - body.ang_vel)
    local_ref_pos = to_heading(ref_pos - body.pos[0])
    local_ref_rot = rot.quat_mul(heading_inv, ref_quat)
    k = ref_pos.shape[0]
    per_frame = [
        diff_pos,
        rot.quat_to_6d(diff_rot),
        diff_lin_vel,
        diff_ang_vel,
        local_ref_pos,
        rot.quat_to_6d(local_ref_rot),
    ]
    return jnp.concatenate([x.reshape(k, -1) for x in per_frame], axis=-1).reshape(-1)


def reference_observation(data: mjx.Data, ref: MotionState) -> Array:
    """[576 * K] privileged observation of the reference frames ``ref`` from ``data``."""
    return reference_observation_from_bodies(body_kinematics(data), ref)


def quat_angle(q: Array) -> Array:
    """Rotation angle in [0, pi] of unit quaternions [..., 4]."""
    return 2.0 * jnp.arctan2(jnp.linalg.norm(q[..., 1:], axis=-1), jnp.abs(q[..., 0]))


def refresh_body_kinematics(model: mjx.Model, data: mjx.Data) -> mjx.Data:
    """Recompute xpos/xquat, subtree_com and cvel from ``qpos``/``qvel`` (no contacts)."""
    data = mjx.kinematics(model, data)
    data = mjx.com_pos(model, data)
    return mjx.com_vel(model, data)


def action_scale_rad(factor: float = 1.2, max_rad: float = float(np.pi)) -> np.ndarray:
    """[69] PD target per unit action: per body, min(factor * max |limit| of its 3 hinges, max_rad)."""
    limits = np.abs(mjcf.joint_ranges_rad()).reshape(NUM_BODIES - 1, 3 * 2).max(axis=-1)
    return np.repeat(np.minimum(factor * limits, max_rad), 3)


@struct.dataclass
class EnvState:
    """State of one environment (add a leading batch axis under ``vmap``).

    ``reward``, ``terminated``, ``truncated`` and ``metrics`` describe the step that
    produced this state.
    """

    data: mjx.Data
    obs: Array  # [observation_size] policy observation (proprioception | reference)
    reward: Array  # [] float32
    terminated: Array  # [] float32, 1: a body is farther than termination_distance_m from the reference
    truncated: Array  # [] float32, 1: the clip has no frame for the next step (and not terminated)
    clip_id: Array  # [] int32
    time_s: Array  # [] float32, motion time of ``data`` in the clip
    key: Array  # PRNG key of this environment's resets (the episode wrapper splits it)
    metrics: dict[str, Array]  # reward/<term> (scaled), body_distance_mean_m, body_distance_max_m


class ImitationEnv:
    """PHC-style imitation of MotionLib clips by the MJX humanoid (one environment).

    Clips must be retargeted to the humanoid's skeleton: reference body positions come
    from each clip's own skeleton, the simulated ones from ``humanoid``.
    """

    def __init__(self, humanoid: Humanoid, config: ml_collections.ConfigDict | None = None):
        self.humanoid = humanoid
        self.config = config if config is not None else default_config()
        self._model = humanoid.mjx_model
        self._substeps = humanoid.substeps
        self.dt = humanoid.control_dt_s
        self._data_template = mjx.make_data(humanoid.mjx_model)
        ranges = mjcf.joint_ranges_rad()
        self._target_low = jnp.asarray(ranges[:, 0], jnp.float32)
        self._target_high = jnp.asarray(ranges[:, 1], jnp.float32)
        self.action_scale = action_scale_rad(self.config.action_scale_factor, self.config.action_scale_max_rad)
        self._action_scale = jnp.asarray(self.action_scale, jnp.float32)

    @property
    def observation_size(self) -> int:
        return observation_size(self.config)

    @property
    def action_size(self) -> int:
        return ACTION_SIZE

    # ----------------------------------------------------------------------------------
    # Actions.

    def residual_offset(self, ref: MotionState) -> Array:
        """[69] what a zero residual action targets for the reference frame ``ref`` (the
        step's target frame, t + dt): its dof plus ``target_lead_s`` times its dof velocity."""
        return ref.dof + self.config.target_lead_s * ref.dof_vel

    def _action_offset_scale(self, residual_offset: Array) -> tuple[Array, Array]:
        """(offset [69], scale [69]) of the affine map action -> PD target (``action_mode``)."""
        mode = self.config.action_mode
        if mode == "absolute":
            return jnp.zeros_like(residual_offset), self._action_scale
        if mode == "residual":
            return residual_offset, self.config.residual_scale * self._action_scale
        raise ConfigError(f"env.action_mode must be 'absolute' or 'residual', not {mode!r}")

    def action_to_targets(self, action: Array, residual_offset: Array) -> Array:
        """[69] action -> [69] PD targets (radians) within the joint ranges.

        ``residual_offset`` [69] is :meth:`residual_offset` of the reference at the step's
        target time t + dt (read only in ``residual`` mode). The targets are absolute in
        both modes: they are what a student imitating this policy is taught.
        """
        if self.config.clip_actions:
            action = jnp.clip(action, -1.0, 1.0)
        offset, scale = self._action_offset_scale(residual_offset)
        return jnp.clip(offset + action * scale, self._target_low, self._target_high)

    def targets_to_action(self, targets: Array, residual_offset: Array) -> Array:
        """Inverse of :meth:`action_to_targets` for targets inside the joint ranges."""
        offset, scale = self._action_offset_scale(residual_offset)
        return (targets - offset) / scale

    def targets(self, state: EnvState, action: Array, motion_lib: MotionLib) -> Array:
        """[69] PD targets ``step`` holds for ``action`` in ``state`` (absolute, radians)."""
        ref = motion_lib.state_at(state.clip_id, state.time_s + self.dt)
        return self.action_to_targets(action, self.residual_offset(ref))

    # ----------------------------------------------------------------------------------
    # Reset.

    def sample_start(self, key: Array, motion_lib: MotionLib) -> tuple[Array, Array, Array]:
        """(key, clip_id, time_s) of a reference state initialisation.

        Clips are drawn by ``motion_lib.clip_weight``; the time is uniform over
        [0, duration - dt] so that the first step has a reference frame to reach.
        """
        key, key_sample = jax.random.split(key)
        clip_ids, times = motion_lib.sample_starts(key_sample, 1, self.dt)
        return key, clip_ids[0].astype(jnp.int32), times[0].astype(jnp.float32)

    def reset(self, key: Array, motion_lib: MotionLib) -> EnvState:
        """Start an episode at a random clip and time (reference state initialisation)."""
        key, clip_id, time_s = self.sample_start(key, motion_lib)
        return self.reset_to(key, motion_lib, clip_id, time_s)

    def reset_to(self, key: Array, motion_lib: MotionLib, clip_id: Array, time_s: Array) -> EnvState:
        """Start an episode at the reference state of ``clip_id`` at ``time_s`` seconds."""
        clip_id = jnp.asarray(clip_id, jnp.int32)
        time_s = jnp.asarray(time_s, jnp.float32)
        key, key_dof, key_vel = jax.random.split(key, 3)
        ref = motion_lib.state_at(clip_id, time_s)
        qpos, qvel = qpos_qvel_from_state(ref)
        qpos = qpos.at[7:].add(self.config.init_dof_noise_rad * jax.random.normal(key_dof, (NUM_DOF,)))
        qvel = qvel.at[6:].add(self.config.init_dof_vel_noise_rad_s * jax.random.normal(key_vel, (NUM_DOF,)))
        data = self._data_template.replace(
            qpos=qpos, qvel=qvel, ctrl=jnp.clip(ref.dof, self._target_low, self._target_high)
        )
        # mjx.step runs a full forward pass first, so only the readouts are computed here.
        data = refresh_body_kinematics(self._model, data)
        obs = self._observation(body_kinematics(data), motion_lib, clip_id, time_s)
        zero = jnp.zeros((), jnp.float32)
        return EnvState(
            data=data,
            obs=obs,
            reward=zero,
            terminated=zero,
            truncated=zero,
            clip_id=clip_id,
            time_s=time_s,
            key=key,
            metrics=self._zero_metrics(),
        )

    @staticmethod
    def _zero_metrics() -> dict[str, Array]:
        names = [f"reward/{t}" for t in REWARD_TERMS] + [BODY_DISTANCE_MEAN, BODY_DISTANCE_MAX]
        return {n: jnp.zeros((), jnp.float32) for n in names}

    # ----------------------------------------------------------------------------------
    # Step.

    def step(self, state: EnvState, action: Array, motion_lib: MotionLib) -> EnvState:
        """One 30 Hz control step (no reset: see :mod:`physhmr_jax.envs.wrappers`)."""
        time_s = state.time_s + self.dt
        ref = motion_lib.state_at(state.clip_id, time_s)  # the step's target frame
        targets = self.action_to_targets(action, self.residual_offset(ref))
        data = pd_step(self._model, state.data, targets, self._substeps)
        data = refresh_body_kinematics(self._model, data)
        body = body_kinematics(data)  # once per step: rewards and observation read it

        terms = self._rewards(body, data, ref)
        distance = jnp.linalg.norm(ref.body_pos - body.pos, axis=-1)
        failed = jnp.any(distance > self.config.termination_distance_m)
        clip_end = time_s + self.dt > motion_lib.clip_duration_s[state.clip_id] + _CLIP_END_TOLERANCE_S
        metrics = {f"reward/{k}": v for k, v in terms.items()}
        metrics.update({BODY_DISTANCE_MEAN: distance.mean(), BODY_DISTANCE_MAX: distance.max()})
        return state.replace(
            data=data,
            obs=self._observation(body, motion_lib, state.clip_id, time_s),
            reward=sum(terms.values()).astype(jnp.float32),
            terminated=failed.astype(jnp.float32),
            truncated=(clip_end & ~failed).astype(jnp.float32),
            time_s=time_s,
            metrics=metrics,
        )

    def _observation(self, body: BodyKinematics, motion_lib: MotionLib, clip_id: Array, time_s: Array) -> Array:
        k = self.config.num_future_frames
        times = time_s + self.dt * jnp.arange(1, k + 1, dtype=jnp.float32)
        future = motion_lib.state_at(jnp.full((k,), clip_id), times)
        return jnp.concatenate([proprioception_from_bodies(body), reference_observation_from_bodies(body, future)])

    # ----------------------------------------------------------------------------------
    # Rewards (PHC ``compute_imitation_reward`` and power penalty).

    def rewards(self, data: mjx.Data, ref: MotionState) -> dict[str, Array]:
        """Scaled reward terms of ``data`` against the reference ``ref`` at the same time."""
        return self._rewards(body_kinematics(data), data, ref)

    def _rewards(self, body: BodyKinematics, data: mjx.Data, ref: MotionState) -> dict[str, Array]:
        terms = {
            "pos": self._reward_pos(body, ref),
            "rot": self._reward_rot(body, ref),
            "vel": self._reward_vel(body, ref),
            "ang_vel": self._reward_ang_vel(body, ref),
            "power": self._reward_power(data),
            "root_pos": self._reward_root_pos(body, ref),
        }
        return {k: v * self.config.reward_scales[k] for k, v in terms.items()}

    def _reward_pos(self, body: BodyKinematics, ref: MotionState) -> Array:
        # Mean over bodies and coordinates of the squared error, as PHC.
        error = jnp.mean(jnp.square(ref.body_pos - body.pos))
        return jnp.exp(-self.config.reward_coefficients.pos * error)

    def _reward_rot(self, body: BodyKinematics, ref: MotionState) -> Array:
        angle = quat_angle(rot.quat_mul(ref.body_quat, rot.quat_conj(body.quat)))
        return jnp.exp(-self.config.reward_coefficients.rot * jnp.mean(jnp.square(angle)))

    def _reward_vel(self, body: BodyKinematics, ref: MotionState) -> Array:
        error = jnp.mean(jnp.square(ref.body_lin_vel - body.lin_vel))
        return jnp.exp(-self.config.reward_coefficients.vel * error)

    def _reward_ang_vel(self, body: BodyKinematics, ref: MotionState) -> Array:
        error = jnp.mean(jnp.square(ref.body_ang_vel - body.ang_vel))
        return jnp.exp(-self.config.reward_coefficients.ang_vel * error)

    def _reward_root_pos(self, body: BodyKinematics, ref: MotionState) -> Array:
        error = jnp.sum(jnp.square(ref.body_pos[0] - body.pos[0]))
        return jnp.exp(-self.config.reward_coefficients.root_pos * error)

    def _reward_power(self, data: mjx.Data) -> Array:
        """Mechanical power sum |tau * qdot| (W) of the actuators at the last physics substep."""
        return jnp.sum(jnp.abs(data.actuator_force * data.qvel[6:]))


class BatchedEnv(NamedTuple):
    """Jitted functions over a batch of environments (leading axis B on keys/states/actions).

    reset(keys [B], motion_lib) -> EnvState [B]
    reset_to(keys [B], motion_lib, clip_ids [B], times_s [B]) -> EnvState [B]
    step(states [B], actions [B, 69], motion_lib) -> EnvState [B]
    """

    reset: Callable[[Array, MotionLib], EnvState]
    reset_to: Callable[[Array, MotionLib, Array, Array], EnvState]
    step: Callable[[EnvState, Array, MotionLib], EnvState]


def make_vmapped(env: ImitationEnv) -> BatchedEnv:
    """``vmap`` + ``jit`` of the env's functions; the motion library is shared (not batched).

    ``reset`` samples the starts with a small jitted function and then calls ``reset_to``,
    so only one reset program is compiled.
    """
    sample = jax.jit(jax.vmap(env.sample_start, in_axes=(0, None)))
    reset_to = jax.jit(jax.vmap(env.reset_to, in_axes=(0, None, 0, 0)))
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, None)))

    def reset(keys: Array, motion_lib: MotionLib) -> EnvState:
        keys, clip_ids, times_s = sample(keys, motion_lib)
        return reset_to(keys, motion_lib, clip_ids, times_s)

    return BatchedEnv(reset=reset, reset_to=reset_to, step=step)


__all__ = [
    "ACTION_SIZE",
    "BODY_DISTANCE_MAX",
    "BODY_DISTANCE_MEAN",
    "PROPRIOCEPTION_SIZE",
    "REFERENCE_FRAME_SIZE",
    "BatchedEnv",
    "BodyKinematics",
    "EnvState",
    "ImitationEnv",
    "action_scale_rad",
    "body_kinematics",
    "default_config",
    "make_vmapped",
    "observation_size",
    "proprioception",
    "reference_observation",
]
