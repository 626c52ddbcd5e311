"""The student's pieces from its config: the teacher, the videos, the vision env, the labels.

The teacher is the expert as one seed's policy (:func:`load_teacher`). Its config fixes the
humanoid, the motion set (built exactly as the expert's, :func:`physhmr_jax.expert.build.
build_expert`) and the imitation settings; the videos must show clips of that set
(:func:`physhmr_jax.vision.video_lib.build_video_lib` ties them by name).

The labels (:func:`make_teacher_labels`): the teacher's mean action on the student's own
state (``VisionState.teacher_obs``), turned into absolute PD targets by the teacher's
action rule (residual about ``residual_offset_next`` or absolute) and then into the
student's (absolute) action space. The teacher's parameters ride in the env data
(``StudentData.teacher``) so that they are arguments of the compiled iteration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import ml_collections

from physhmr_jax import config_io
from physhmr_jax.agents import ppo, run_dir, runner
from physhmr_jax.agents.acting import PolicyParams
from physhmr_jax.agents.networks import PPONetworks
from physhmr_jax.envs import vision, wrappers
from physhmr_jax.envs.imitation import ImitationEnv
from physhmr_jax.envs.motion_prior import make_motion_prior
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import Expert, build_expert
from physhmr_jax.motion.library import MotionLib
from physhmr_jax.student import config as student_config
from physhmr_jax.vision.encoder_train import split_shards
from physhmr_jax.vision.shards import VideoSample
from physhmr_jax.vision.video_lib import VideoLib, build_video_lib, load_video_lib


class Teacher(NamedTuple):
    networks: PPONetworks
    params: PolicyParams
    config: ml_collections.ConfigDict  # the expert's run config


class StudentData(NamedTuple):
    """The student's ``env_data``: what the vision env reads, and the teacher's arrays."""

    motion_lib: MotionLib
    video_lib: VideoLib
    teacher: PolicyParams | None  # None where the student only plays


def load_teacher(path: str | Path, *, seed_index: int = 0) -> Teacher:
    """One seed's policy from an exported ``.npz`` (``physhmr export expert``) or an expert run."""
    from physhmr_jax.expert.evaluate import restore_seeds
    from physhmr_jax.expert.export import load_policy, policy_networks, policy_sizes

    path = Path(path)
    if path.is_file():
        networks, params, normalizer, config = load_policy(path)
        return Teacher(networks, PolicyParams(params, normalizer), config)
    if not (path / "config.json").is_file():
        raise run_dir.RunDirError(path, "not an expert run directory or an exported policy (.npz)")
    config = expert_config.load_config(path)
    sizes, cfg = policy_sizes(config), expert_config.ppo_config(config)
    state = runner.unreplicate_seed(restore_seeds(path, sizes, cfg), seed_index)
    return Teacher(policy_networks(config), ppo.policy_params(state), config)


def teacher_config(path: str | Path) -> ml_collections.ConfigDict:
    """The expert config of an exported policy or an expert run, without loading its weights."""
    from physhmr_jax.expert.export import policy_meta

    path = Path(path)
    if path.is_file():
        return config_io.from_dict(policy_meta(path)["config"])
    if not (path / "config.json").is_file():
        raise run_dir.RunDirError(path, "not an expert run directory or an exported policy (.npz)")
    return expert_config.load_config(path)


@dataclasses.dataclass(frozen=True)
class Student:
    expert: Expert  # the teacher's humanoid, imitation env and motions
    teacher: Teacher | None  # None where the student only plays (build_student_on_videos)
    env: vision.VisionEnv
    training_env: wrappers.TrainingEnv
    data: StudentData
    ppo_config: ml_collections.ConfigDict


def vision_env_config(
    teacher_config: ml_collections.ConfigDict, start: str, ablation: str = "none"
) -> ml_collections.ConfigDict:
    """The teacher's imitation settings with absolute actions, the given start rule and input ablation."""
    config = vision.default_config()
    teacher_env = dict(expert_config.env_config(teacher_config))
    config.update({**teacher_env, "action_mode": "absolute", "start": start, "ablation": ablation})
    return config


def ablation(config: ml_collections.ConfigDict) -> str:
    """The student's input ablation (``env.ablation``; configs written before it existed: none)."""
    return config.env.get("ablation", "none")


def make_teacher_labels(teacher: Teacher, teacher_env: ImitationEnv, student_env: vision.VisionEnv):
    """``labels(env_data, state [B]) -> [B, 69]``: the teacher's action in the student's action space."""

    def labels(env_data: StudentData, state: wrappers.EpisodeState) -> jax.Array:
        inner = state.inner
        mean, _ = teacher.networks.policy(
            env_data.teacher.params, env_data.teacher.normalizer_params, inner.teacher_obs
        )
        targets = teacher_env.action_to_targets(mean, inner.residual_offset_next)
        return student_env.imitation.targets_to_action(targets, inner.residual_offset_next)

    return labels


def build_student(
    config: ml_collections.ConfigDict, *, split: str | None = None, samples: Sequence[VideoSample] | None = None
) -> Student:
    """Teacher, motions, videos and envs of a student config. The videos are the shards of
    ``split`` (default ``data.split``) under ``data.path``, or ``samples`` when given."""
    teacher = load_teacher(config.teacher.path, seed_index=config.teacher.seed_index)
    expert = build_expert(teacher.config)
    root_position = ablation(config) == "root_position"
    if samples is None:
        paths = split_shards(config.data.path, split or config.data.split)
        video_lib = load_video_lib(paths, expert.motion_lib, root_position=root_position)
    else:
        video_lib = build_video_lib(list(samples), expert.motion_lib, root_position=root_position)
    env_config = vision_env_config(teacher.config, config.env.start, ablation(config))
    env = vision.VisionEnv(expert.humanoid, video_lib.feature_size, env_config)
    training_env = wrappers.wrap_for_training(env, episode_length_steps=env.config.episode_length_steps)
    data = StudentData(expert.motion_lib, video_lib, teacher.params)
    return Student(expert, teacher, env, training_env, data, student_config.ppo_config(config))


def with_split(student: Student, config: ml_collections.ConfigDict, split: str) -> Student:
    """The same student (teacher, motions, envs) on the videos of another ``split``."""
    paths = split_shards(config.data.path, split)
    video_lib = load_video_lib(paths, student.data.motion_lib, root_position=ablation(config) == "root_position")
    return dataclasses.replace(student, data=student.data._replace(video_lib=video_lib))


def build_student_on_videos(policy, samples, *, motions: str | list | None = None) -> Student:
    """A trained student (``student.export.StudentPolicy``) on the videos ``samples``, for
    playing only (no teacher). The env starts each video at the motion it shows: the clips
    ``motions`` (paths or Clips; default the teacher's motion set) must hold them by name."""
    expert = build_expert(policy.teacher_config, motions=motions)
    root_position = ablation(policy.config) == "root_position"
    video_lib = build_video_lib(list(samples), expert.motion_lib, root_position=root_position)
    env_config = vision_env_config(policy.teacher_config, "first", ablation(policy.config))
    env = vision.VisionEnv(expert.humanoid, video_lib.feature_size, env_config)
    training_env = wrappers.wrap_for_training(env, episode_length_steps=env.config.episode_length_steps)
    data = StudentData(expert.motion_lib, video_lib, None)
    return Student(expert, None, env, training_env, data, student_config.ppo_config(policy.config))


def make_algorithm(student: Student) -> ppo.Algorithm:
    """PPO on the vision env distilling from the teacher (``ppo.kin_weight`` sets the mix).

    A run that starts from another student's weights (``init``) starts from this
    algorithm's fresh state with them put in (``runner.start_every_seed_from``).
    """
    labels = make_teacher_labels(student.teacher, student.expert.env, student.env)
    prior = make_motion_prior(student.env.dt, lambda data: data.motion_lib)  # used when ppo.amp_weight > 0
    return ppo.make_algorithm(student.training_env, student.ppo_config, teacher=labels, motion_prior=prior)


__all__ = [
    "Student",
    "ablation",
    "StudentData",
    "Teacher",
    "build_student",
    "build_student_on_videos",
    "load_teacher",
    "make_algorithm",
    "make_teacher_labels",
    "teacher_config",
    "vision_env_config",
    "with_split",
]
