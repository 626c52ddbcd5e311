"""Procedural clips and libraries: the planner registry, and the plan -> clip pipeline."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from physhmr_jax.geometry.rotations_np import matrix_to_quat
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.skeleton import Skeleton, mean_skeleton
from physhmr_jax.motion.clip import Clip
from physhmr_jax.motion.procedural.body import LegGeometry
from physhmr_jax.motion.procedural.gestures import plan_reach, plan_wave
from physhmr_jax.motion.procedural.jump import plan_jump
from physhmr_jax.motion.procedural.locomotion import GAIT_STYLES, plan_gait
from physhmr_jax.motion.procedural.params import MOTION_TYPES, MotionParams, check_type, sample_params
from physhmr_jax.motion.procedural.plan import Plan
from physhmr_jax.motion.procedural.solve import com_offsets, com_on_path, ground_root, solve_pose
from physhmr_jax.motion.procedural.standing import plan_squat

# A planner: (parameters, times [T] in seconds, leg geometry, the clip's random stream) -> Plan.
Planner = Callable[[MotionParams, np.ndarray, LegGeometry, np.random.Generator], Plan]

PLANNERS: dict[str, Planner] = {
    **{name: functools.partial(plan_gait, style) for name, style in GAIT_STYLES.items()},
    "jump": plan_jump,
    "squat": plan_squat,
    "reach": plan_reach,
    "wave": plan_wave,
}


def generate_clip(
    motion_type: str,
    *,
    seed: int,
    duration_s: float = 4.0,
    fps: float = 30.0,
    skeleton: Skeleton | None = None,
    name: str | None = None,
) -> Clip:
    """One procedural clip, deterministic given ``(motion_type, seed)``.

    Args:
      motion_type: one of :data:`MOTION_TYPES`.
      seed: draws the parameters from :data:`PARAMETER_RANGES`.
      duration_s, fps: the clip has ``round(duration_s * fps) + 1`` frames.
      skeleton: the body (default: the built-in mean body).
      name: clip name (default ``"<type>_<seed>"``).

    Returns: a validated :class:`Clip` with ``source = "procedural:<type>:<seed>"``.
    """
    check_type(motion_type)
    if not (duration_s > 0 and fps > 0):
        raise ValueError(f"duration_s and fps must be positive, got {duration_s}, {fps}")
    skeleton = skeleton if skeleton is not None else mean_skeleton()
    legs = LegGeometry.of(skeleton)
    num_frames = max(2, int(round(duration_s * fps)) + 1)
    t = np.arange(num_frames) / fps
    # Lengths scale with the body; speeds stay (the cadence adapts instead).
    params, rng = sample_params(motion_type, seed, legs.size)
    plan = PLANNERS[motion_type](params, t, legs, rng)
    flight = not plan.feet.contact.any(axis=0).all()  # run, jump: the centre of mass is ballistic there
    model = mjcf.build_model(skeleton) if flight else None  # its masses place the centre of mass
    if flight:
        plan = com_on_path(plan, legs, model)
    dof, pelvis_rot = solve_pose(plan, legs)
    root_quat = matrix_to_quat(pelvis_rot)
    plan_pos = np.concatenate([plan.pelvis_xy, plan.pelvis_z[:, None]], -1)
    com = com_offsets(root_quat, dof, model) if flight else None
    root_pos = ground_root(dof, root_quat, plan.feet.contact, plan_pos, skeleton, fps, com_offset=com)
    clip = Clip(
        name=name or f"{motion_type}_{seed}",
        fps=float(fps),
        root_pos_m=root_pos,
        root_quat=root_quat,
        dof=dof,
        skeleton=skeleton,
        source=f"procedural:{motion_type}:{seed}",
    )
    return clip.validate()


def _clip_seed(library_seed: int, k: int) -> int:
    # The motion type already enters the parameter stream, so types may share clip seeds.
    return int(library_seed) * 1000 + k


def generate_library(
    num_clips_per_type: int = 2,
    *,
    seed: int = 0,
    motion_types: Sequence[str] = MOTION_TYPES,
    duration_s: float = 4.0,
    fps: float = 30.0,
    skeleton: Skeleton | None = None,
) -> list[Clip]:
    """``num_clips_per_type`` clips of each type, named ``<type>_<k>``.

    Clip ``k`` of a library with ``seed`` uses clip seed ``1000 * seed + k`` (so libraries
    with different seeds share no clip while ``num_clips_per_type <= 1000``).
    """
    for motion_type in motion_types:
        check_type(motion_type)
    return [
        generate_clip(m, seed=_clip_seed(seed, k), duration_s=duration_s, fps=fps, skeleton=skeleton, name=f"{m}_{k}")
        for m in motion_types
        for k in range(num_clips_per_type)
    ]


def write_library(
    out_dir: str | os.PathLike,
    num_clips_per_type: int = 2,
    *,
    seed: int = 0,
    motion_types: Sequence[str] = MOTION_TYPES,
    duration_s: float = 4.0,
    fps: float = 30.0,
    skeleton: Skeleton | None = None,
) -> list[Path]:
    """Generate the library and save each clip as ``out_dir/<type>_<k>.npz``; returns the paths."""
    clips = generate_library(
        num_clips_per_type, seed=seed, motion_types=motion_types, duration_s=duration_s, fps=fps, skeleton=skeleton
    )
    out = Path(out_dir)
    return [clip.save(out / f"{clip.name}.npz") for clip in clips]
