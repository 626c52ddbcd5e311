"""A root assist for training: a spring-damper on the pelvis towards the reference, faded out.

The expert's training episodes end after about one second (the body drifts and falls,
``docs/expert.md``), so the policy sees little of a clip beyond its first steps. Yu, Turk
and Liu (2018, "Learning Symmetric and Low-Energy Locomotion") train with a virtual
assistant — a spring-damper force on the pelvis — whose strength a curriculum lowers to
zero; Yuan and Kitani's residual force control keeps such a force for good. Here it is the
first kind: a training-only wrench on the pelvis, scaled by a level that falls linearly
from 1 to 0 over ``env.assist_decay_env_steps`` env steps per seed; evaluation and every
exported policy play the plain env, without it. Measured against the recipe at equal env
steps (``docs/expert.md``): not a lever at 246–307k env steps per seed; off by default.

The wrench (world frame, at the pelvis's centre of mass, held over the control step's
physics substeps) pulls the simulated pelvis to the reference pelvis of the step's target
frame t + dt:

    force  = level * (pos_kp * (p_ref - p) + pos_kd * (v_ref - v))
    torque = level * (rot_kp * rotvec(q_ref q^-1) + rot_kd * (w_ref - w))

Pieces:
  * :class:`AssistedData`: the rollout's ``env_data`` (the motion library and the level);
  * :class:`AssistedEnv`: the imitation env with the wrench applied (a plain env for
    :func:`physhmr_jax.envs.wrappers.wrap_for_training`); given a bare ``MotionLib`` it is the
    imitation env itself (level 0);
  * :class:`RootAssistSchedule`: the :class:`~physhmr_jax.agents.curriculum.Curriculum` that
    counts the env steps and turns the motion library into the level's ``AssistedData``
    inside the one compiled PPO iteration (checkpointed and resumed with the training state).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

from physhmr_jax.agents import acting
from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import imitation, wrappers
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.motion.library import MotionLib


@struct.dataclass
class AssistedData:
    """What an assisted rollout plays: the clips and the assist level (a scalar in [0, 1])."""

    motion_lib: MotionLib
    level: jax.Array


@dataclasses.dataclass(frozen=True)
class AssistGains:
    """Spring-damper gains of the pelvis wrench at level 1 (N/m, N s/m, N m/rad, N m s/rad)."""

    pos_kp: float = 1000.0
    pos_kd: float = 100.0
    rot_kp: float = 100.0
    rot_kd: float = 10.0

    @classmethod
    def from_env_config(cls, config) -> AssistGains:
        return cls(
            pos_kp=float(config.assist_pos_kp),
            pos_kd=float(config.assist_pos_kd),
            rot_kp=float(config.assist_rot_kp),
            rot_kd=float(config.assist_rot_kd),
        )


def root_wrench(body: imitation.BodyKinematics, ref, gains: AssistGains) -> jax.Array:
    """[6] world force and torque at level 1 pulling the pelvis of ``body`` to ``ref``'s."""
    force = gains.pos_kp * (ref.body_pos[0] - body.pos[0]) + gains.pos_kd * (ref.body_lin_vel[0] - body.lin_vel[0])
    rotation = rot.quat_to_rotvec(rot.quat_mul(ref.body_quat[0], rot.quat_conj(body.quat[0])))
    torque = gains.rot_kp * rotation + gains.rot_kd * (ref.body_ang_vel[0] - body.ang_vel[0])
    return jnp.concatenate([force, torque])


def motion_lib_of(env_data) -> MotionLib:
    """The clips of a rollout's data, assisted (:class:`AssistedData`) or not (a ``MotionLib``)."""
    return env_data.motion_lib if isinstance(env_data, AssistedData) else env_data


class AssistedEnv(wrappers.EnvWrapper):
    """:class:`~physhmr_jax.envs.imitation.ImitationEnv` with the pelvis wrench of the data's level."""

    def __init__(self, env: imitation.ImitationEnv, gains: AssistGains):
        super().__init__(env)
        self.gains = gains

    @staticmethod
    def _split(env_data) -> tuple[MotionLib, jax.Array | None]:
        return motion_lib_of(env_data), env_data.level if isinstance(env_data, AssistedData) else None

    def reset(self, key: jax.Array, env_data) -> imitation.EnvState:
        motion_lib, _ = self._split(env_data)
        return self.env.reset(key, motion_lib)

    def wrench(self, state: imitation.EnvState, motion_lib: MotionLib, level: jax.Array) -> jax.Array:
        """[6] the wrench ``step`` applies in ``state`` at ``level``."""
        ref = motion_lib.state_at(state.clip_id, state.time_s + self.env.dt)
        return level * root_wrench(imitation.body_kinematics(state.data), ref, self.gains)

    def step(self, state: imitation.EnvState, action: jax.Array, env_data) -> imitation.EnvState:
        motion_lib, level = self._split(env_data)
        if level is None:
            return self.env.step(state, action, motion_lib)
        xfrc = jnp.zeros_like(state.data.xfrc_applied)
        xfrc = xfrc.at[imitation.ROOT_BODY_ID].set(self.wrench(state, motion_lib, level))
        stepped = self.env.step(state.replace(data=state.data.replace(xfrc_applied=xfrc)), action, motion_lib)
        # The next step sets its own wrench; a state never carries one out of the step.
        return stepped.replace(data=stepped.data.replace(xfrc_applied=jnp.zeros_like(xfrc)))


@struct.dataclass
class AssistState:
    """Env steps per seed played so far (float32: exact to 2^24 = 16.7M)."""

    env_steps: jax.Array


@dataclasses.dataclass(frozen=True)
class RootAssistSchedule:
    """The assist level 1 - env steps / ``decay_env_steps``, clipped to [0, 1] (a curriculum)."""

    decay_env_steps: float

    def __post_init__(self):
        if not self.decay_env_steps > 0:
            raise ConfigError(f"env.assist_decay_env_steps must be > 0 to assist, not {self.decay_env_steps}")

    def init(self) -> AssistState:
        return AssistState(env_steps=jnp.zeros((), jnp.float32))

    def level(self, state: AssistState) -> jax.Array:
        return jnp.clip(1.0 - state.env_steps / self.decay_env_steps, 0.0, 1.0)

    def apply(self, state: AssistState, motion_lib: MotionLib) -> AssistedData:
        return AssistedData(motion_lib=motion_lib, level=self.level(state))

    def record(self, state, action, next_state) -> dict[str, jax.Array]:
        del state, action, next_state
        return {}

    def update(self, state: AssistState, transitions: acting.Transition) -> tuple[AssistState, dict[str, jax.Array]]:
        played = jnp.asarray(transitions.reward.size, jnp.float32)  # T x B steps, as env_steps counts them
        level = self.level(state)  # the level this rollout played
        return AssistState(env_steps=state.env_steps + played), {"assist_level": level}


def make_root_assist(decay_env_steps: float) -> RootAssistSchedule | None:
    """The curriculum of ``env.assist_decay_env_steps``: None for 0 (no assist)."""
    if decay_env_steps == 0:
        return None
    return RootAssistSchedule(float(decay_env_steps))


__all__ = [
    "AssistGains",
    "AssistState",
    "AssistedData",
    "AssistedEnv",
    "RootAssistSchedule",
    "make_root_assist",
    "motion_lib_of",
    "root_wrench",
]
