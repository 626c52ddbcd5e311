"""Humanoid, environments and motion library of an expert config.

Motions: a folder or files of our clip ``.npz`` files (``physhmr motion import`` makes them
from BVH / AMASS), or ``"procedural"`` for the built-in library. All clips are played on
one humanoid, by default the built-in mean body (``motions.skeleton = "mean"``; ``"first"``
uses the first clip's body): the clips' joint angles are kept and the feet re-grounded
(:func:`physhmr_jax.motion.retarget.on_skeleton`), as PHC trains its mean-shape humanoid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import ml_collections

from physhmr_jax.agents.curriculum import Curriculum
from physhmr_jax.agents.mirror import Mirror
from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import assist, clip_sampling, imitation, symmetry, wrappers
from physhmr_jax.expert import config as expert_config
from physhmr_jax.humanoid.simulation import Humanoid, make_humanoid
from physhmr_jax.humanoid.skeleton import Skeleton, mean_skeleton
from physhmr_jax.motion.clip import Clip, MotionFileError, load_clips
from physhmr_jax.motion.library import MotionLib, build_motion_lib


def load_motions(path: str | Sequence[str], *, procedural_per_type: int = 2, procedural_seed: int = 0) -> list[Clip]:
    """Clips from ``.npz`` files/folders, or the procedural library for ``"procedural"``."""
    if path == expert_config.PROCEDURAL:
        from physhmr_jax.motion.procedural import generate_library

        return generate_library(num_clips_per_type=procedural_per_type, seed=procedural_seed)
    paths = [path] if isinstance(path, str) else list(path)
    for p in paths:
        if Path(p).suffix.lower() == ".bvh" or (Path(p).is_dir() and any(Path(p).glob("*.bvh"))):
            raise MotionFileError(p, "BVH files must be imported first: physhmr motion import PATH --out DIR")
    return load_clips(paths)


def select_skeleton(clips: Sequence[Clip], choice: str) -> Skeleton:
    if choice == "mean":
        return mean_skeleton()
    if choice == "first":
        return clips[0].skeleton
    raise ConfigError(f"unknown motions.skeleton {choice!r} (use 'mean' or 'first')")


@dataclasses.dataclass(frozen=True)
class Expert:
    """What a config builds: the humanoid, its plain env (evaluation) and training env
    (episode wrappers), the clips (on its body) and their library, and how training picks
    its clips (``curriculum``: None for the library's own weights)."""

    humanoid: Humanoid
    env: imitation.ImitationEnv
    training_env: wrappers.TrainingEnv
    clips: list[Clip]
    motion_lib: MotionLib
    ppo_config: ml_collections.ConfigDict
    curriculum: Curriculum | None = None

    @property
    def mirror(self) -> Mirror:
        """The env's left-right mirror maps (``envs/symmetry.py``), which ``ppo.symmetry_coef``
        and ``ppo.symmetric_networks`` read."""
        return symmetry.imitation_mirror(self.env.config.num_future_frames)


def build_expert(config: ml_collections.ConfigDict, *, motions: str | Sequence[str] | None = None) -> Expert:
    """Humanoid, envs and motion library of a config (``motions`` overrides its clips; the
    curriculum keeps the size of the config's own, so a checkpoint restores into it)."""
    from physhmr_jax.motion.retarget import on_skeleton

    m = config.motions

    def load(path):
        return load_motions(path, procedural_per_type=m.procedural_per_type, procedural_seed=m.procedural_seed)

    clips = load(motions if motions is not None else m.path)
    skeleton = select_skeleton(clips, m.skeleton)
    clips = [on_skeleton(c, skeleton) for c in clips]
    humanoid = make_humanoid(skeleton, expert_config.humanoid_config(config))
    env = imitation.ImitationEnv(humanoid, expert_config.env_config(config))
    sampling = expert_config.clip_sampling_settings(config)
    kind = sampling["clip_sampling"]
    training_clips = clips if motions is None or kind == "duration" else load(m.path)
    curriculum = clip_sampling.make_clip_sampling(
        kind,
        len(training_clips),
        decay=sampling["failure_decay"],
        floor=sampling["failure_floor"],
        segments=sampling["failure_segments"],
        start_spans_s=tuple(max(c.duration_s - env.dt, 0.0) for c in training_clips),
        per=sampling["failure_per"],
        max_step_share=sampling["failure_max_step_share"],
        score=sampling["failure_score"],
        slow_decay=sampling["failure_slow_decay"],
        place=sampling["failure_place"],
        dt=env.dt,
    )
    root_assist = assist.make_root_assist(env.config.assist_decay_env_steps)
    played = env
    if root_assist is not None:
        if curriculum is not None:
            raise ConfigError("env.assist_decay_env_steps and motions.clip_sampling=failure cannot be combined yet")
        curriculum, played = root_assist, assist.AssistedEnv(env, assist.AssistGains.from_env_config(env.config))
    training_env = wrappers.wrap_for_training(played, episode_length_steps=env.config.episode_length_steps)
    motion_lib = build_motion_lib(clips)
    return Expert(humanoid, env, training_env, clips, motion_lib, expert_config.ppo_config(config), curriculum)


__all__ = ["Expert", "build_expert", "load_motions", "select_skeleton"]
