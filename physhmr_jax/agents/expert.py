"""The mocap-trained expert: config, construction, training and evaluation.

The expert is PHC's imitation policy: PPO (:mod:`physhmr_jax.agents.ppo`) on the
:class:`physhmr_jax.envs.imitation.ImitationEnv`, with the privileged reference motion in
its observation. This module turns one config into a run:

  * :func:`expert_config` — the run's ConfigDict: ``ppo`` (a PPO preset), ``env``,
    ``humanoid`` (:class:`HumanoidConfig` fields), ``motions`` (where clips come from and
    which body they are played on) and ``run`` (iterations, checkpoints, seed). Saved as
    ``config.json`` in the run directory; :func:`config_from_dict` reads it back.
  * :func:`build_expert` — humanoid, env and motion library from a config.
  * :func:`train_expert` — ``physhmr train expert``: the sharded, checkpointed loop of
    :func:`physhmr_jax.agents.runner.run_training`.
  * :func:`evaluate_expert` — ``physhmr eval expert``: every clip played from its first
    frame (clip i in environment i) with the policy's mean action, success rate and the
    PHC/WHAM tracking errors, and optionally a video of one clip.

Motions: a folder or files of our clip ``.npz`` files (``physhmr motion import`` makes them
from BVH / AMASS), or ``"procedural"`` for the built-in library. All clips are played on
one humanoid, by default the built-in mean body (``motions.skeleton = "mean"``; ``"first"``
uses the first clip's body): the clips' joint angles are kept and the feet re-grounded
(:func:`physhmr_jax.motion.retarget.on_skeleton`), as PHC trains its mean-shape humanoid.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from physhmr_jax.agents import ppo, run_dir, runner, sharding
from physhmr_jax.envs import imitation
from physhmr_jax.humanoid.mjcf import HumanoidConfig
from physhmr_jax.humanoid.simulation import Humanoid, make_humanoid
from physhmr_jax.humanoid.skeleton import mean_skeleton
from physhmr_jax.motion.clip import Clip, MotionFileError, load_clips
from physhmr_jax.motion.library import MotionLib, build_motion_lib

PROCEDURAL = "procedural"
# Evaluation counts a failure when the mean body distance exceeds this (PHC / DESIGN.md).
EVAL_FAILURE_DISTANCE_M = 0.5

# Run settings per PPO preset (iterations are totals; ``--iterations`` overrides).
RUN_PRESETS = {
    "smoke": {"iterations": 20, "checkpoint_every": 10},
    "cpu": {"iterations": 2000, "checkpoint_every": 50},
    "gpu": {"iterations": 20000, "checkpoint_every": 200},
}


def expert_config(preset: str = "cpu", **ppo_overrides) -> ml_collections.ConfigDict:
    """The whole run's config for a named preset (``smoke``, ``cpu``, ``gpu``)."""
    if preset not in RUN_PRESETS:
        raise ValueError(f"unknown expert preset {preset!r}; choose one of {sorted(RUN_PRESETS)}")
    config = ml_collections.ConfigDict(
        {
            "preset": preset,
            "ppo": ppo.get_config(preset, **ppo_overrides).to_dict(),
            "env": imitation.default_config().to_dict(),
            "humanoid": dataclasses.asdict(HumanoidConfig()),
            "motions": {"path": PROCEDURAL, "skeleton": "mean", "procedural_per_type": 2, "procedural_seed": 0},
            "run": {**RUN_PRESETS[preset], "seed": 0},
        }
    )
    return config


def config_from_dict(d: dict) -> ml_collections.ConfigDict:
    """A saved ``config.json`` back into a ConfigDict (JSON lists where tuples were;
    ``build_expert`` turns them back into tuples where it matters)."""
    return ml_collections.ConfigDict(d)


def _ppo_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    base = ppo.default_config()
    base.update(dict(config.ppo))
    base.policy_hidden, base.value_hidden = tuple(base.policy_hidden), tuple(base.value_hidden)
    ppo.num_minibatches(base)
    return base


def _env_config(config: ml_collections.ConfigDict, **overrides) -> ml_collections.ConfigDict:
    base = imitation.default_config()
    base.update(dict(config.env))
    base.update(overrides)
    return base


def _humanoid_config(config: ml_collections.ConfigDict) -> HumanoidConfig:
    fields = dict(config.humanoid)
    for name, value in fields.items():
        if isinstance(value, list):
            fields[name] = tuple(value)
    return HumanoidConfig(**fields)


# --------------------------------------------------------------------------------------
# Construction.


def load_motions(path: str | Sequence[str], *, procedural_per_type: int = 2, procedural_seed: int = 0) -> list[Clip]:
    """Clips from ``.npz`` files/folders, or the procedural library for ``"procedural"``."""
    if path == PROCEDURAL:
        from physhmr_jax.motion.procedural import generate_library

        return generate_library(num_clips_per_type=procedural_per_type, seed=procedural_seed)
    paths = [path] if isinstance(path, str) else list(path)
    for p in paths:
        if Path(p).suffix.lower() == ".bvh" or (Path(p).is_dir() and any(Path(p).glob("*.bvh"))):
            raise MotionFileError(p, "BVH files must be imported first: physhmr motion import PATH --out DIR")
    return load_clips(paths)


def select_skeleton(clips: Sequence[Clip], choice: str):
    if choice == "mean":
        return mean_skeleton()
    if choice == "first":
        return clips[0].skeleton
    raise ValueError(f"unknown motions.skeleton {choice!r} (use 'mean' or 'first')")


@dataclasses.dataclass(frozen=True)
class Expert:
    """What a config builds: the humanoid, its env, the clips (on its body) and their library."""

    humanoid: Humanoid
    env: imitation.ImitationEnv
    clips: list[Clip]
    motion_lib: MotionLib
    ppo_config: ml_collections.ConfigDict


def build_expert(
    config: ml_collections.ConfigDict, *, motions: str | Sequence[str] | None = None, **env_overrides
) -> Expert:
    """Humanoid, env and motion library of a config (``motions`` overrides its clips)."""
    from physhmr_jax.motion.retarget import on_skeleton

    m = config.motions
    clips = load_motions(
        motions if motions is not None else m.path,
        procedural_per_type=m.procedural_per_type,
        procedural_seed=m.procedural_seed,
    )
    skeleton = select_skeleton(clips, m.skeleton)
    clips = [on_skeleton(c, skeleton) for c in clips]
    humanoid = make_humanoid(skeleton, _humanoid_config(config))
    env = imitation.ImitationEnv(humanoid, _env_config(config, **env_overrides))
    return Expert(humanoid, env, clips, build_motion_lib(clips), _ppo_config(config))


# --------------------------------------------------------------------------------------
# Training.


def train_expert(
    config: ml_collections.ConfigDict,
    out: str | Path,
    *,
    resume: bool = False,
    resume_iterations: int | None = None,
    progress: bool = True,
    mesh=None,
) -> dict:
    """Train (or resume) an expert into run directory ``out``; returns a summary dict.

    On ``resume`` the run's saved ``config.json`` is used, not ``config``; only the total
    number of iterations may change (``resume_iterations``).
    """
    out = Path(out)
    if resume:
        config = config_from_dict(run_dir.load_config(out))
        if resume_iterations is not None:
            config.run.iterations = resume_iterations
    expert = build_expert(config)
    if jax.process_index() == 0:
        run_dir.save_config(out, config.to_dict())
    trainer = runner.Trainer(expert.env, expert.ppo_config, mesh)
    cfg = expert.ppo_config
    print(
        f"[train expert] {len(expert.clips)} clip(s), {cfg.num_seeds} seed(s) x {cfg.num_envs} envs on "
        f"{trainer.mesh.size} device(s) ({jax.devices()[0].platform}); "
        f"{cfg.num_envs * cfg.horizon * cfg.num_seeds:,} env steps per iteration; run dir {out}"
    )
    start = time.perf_counter()
    loop_state, rows = runner.run_training(
        trainer,
        expert.motion_lib,
        out,
        num_iterations=config.run.iterations,
        seed=config.run.seed,
        checkpoint_every=config.run.checkpoint_every,
        resume=resume,
        progress=progress,
    )
    last = [r for r in rows if r["iteration"] == max(r["iteration"] for r in rows)] if rows else []
    summary = {
        "run_dir": str(out),
        "iterations": int(sharding.to_host(loop_state.training_state.iteration)[0]),
        "env_steps": float(sharding.to_host(loop_state.training_state.env_steps)[0]),
        "wall_time_s_this_session": time.perf_counter() - start,
    }
    for name in ("rollout/episode_return_mean", "rollout/episode_length_mean", "rollout/success_rate",
                 "env/body_distance_mean_m"):  # fmt: skip
        if last and name in last[0]:
            summary[name] = float(np.mean([r[name] for r in last]))
    return summary


# --------------------------------------------------------------------------------------
# Evaluation.


def restore_training_state(out: str | Path, expert: Expert, *, iteration: int | None = None) -> ppo.TrainingState:
    """The ``[S, ...]`` training state of a run's latest (or given) checkpoint."""
    checkpoints = run_dir.Checkpoints(out)
    try:
        iteration = checkpoints.latest_iteration() if iteration is None else iteration
        if iteration is None:
            raise run_dir.RunDirError(out, "no checkpoints yet (checkpoints/ is empty)")
        cfg = expert.ppo_config
        one = jax.eval_shape(lambda k: ppo.init_training_state(expert.env, cfg, k), jax.random.PRNGKey(0))
        device = sharding.replicated(sharding.make_mesh(jax.devices()[:1]))
        abstract = jax.tree.map(
            lambda x: jax.ShapeDtypeStruct((cfg.num_seeds, *x.shape), x.dtype, sharding=device), one
        )
        items, _ = checkpoints.restore(iteration, {"training_state": abstract})
    finally:
        checkpoints.close()
    return items["training_state"]


def _play_clips(expert: Expert, training_state: ppo.TrainingState, num_steps: int):
    """Clip i from its first frame in env i, mean actions, ``num_steps`` control steps.

    Returns per step t (states before the step's action; t = 0 is the reference start):
    sim and reference body positions [T, C, 24, 3], qpos [T, C, nq], and a [T, C] mask of
    frames still in the clip's first episode.
    """
    env, lib = expert.env, expert.motion_lib
    networks = ppo.make_networks(env, expert.ppo_config)
    num_clips = lib.num_clips

    def run(training_state, lib):
        keys = jax.random.split(jax.random.PRNGKey(0), num_clips)
        clip_ids = jnp.arange(num_clips, dtype=jnp.int32)
        state = jax.vmap(env.reset_to, in_axes=(0, None, 0, 0))(keys, lib, clip_ids, jnp.zeros(num_clips))

        def body(carry, _):
            state, alive = carry
            ref = lib.state_at(state.clip_id, state.time_s)
            record = (jax.vmap(imitation.body_kinematics)(state.data).pos, ref.body_pos, state.data.qpos, alive)
            mean, _ = networks.policy(training_state.params, training_state.normalizer_params, state.obs)
            state = jax.vmap(env.step, in_axes=(0, 0, None))(state, mean, lib)
            return (state, alive * (1.0 - state.done)), record

        _, records = jax.lax.scan(body, (state, jnp.ones(num_clips)), None, length=num_steps)
        return records

    return jax.tree.map(np.asarray, jax.jit(run)(training_state, lib))


def evaluate_expert(
    out: str | Path,
    *,
    motions: str | Sequence[str] | None = None,
    seed_index: int = 0,
    iteration: int | None = None,
    video_clip: str | None = None,
    video_path: str | Path | None = None,
) -> dict:
    """Success rate and tracking errors of a trained expert on every clip of ``motions``.

    A clip fails at the first frame whose mean body distance to the reference exceeds
    0.5 m (PHC's evaluation rule); errors average the frames tracked before that (all
    frames of a successful clip). Errors are in millimetres: G-MPJPE (global, unaligned),
    MPJPE (root-relative), PA-MPJPE (per-frame similarity alignment), acceleration error
    (mm/frame^2).
    """
    from physhmr_jax.eval import metrics

    config = config_from_dict(run_dir.load_config(out))
    expert = build_expert(config, motions=motions, termination_distance_m=1e6, episode_length_steps=10**9)
    states = restore_training_state(out, expert, iteration=iteration)
    num_seeds = int(states.iteration.shape[0])
    if not 0 <= seed_index < num_seeds:
        raise ValueError(f"--seed-index {seed_index} out of range: the run trained {num_seeds} seed(s)")
    training_state = runner.unreplicate_seed(states, seed_index)
    dt = expert.env.dt
    steps_per_clip = [int(math.floor(c.duration_s / dt + 1e-3)) + 1 for c in expert.clips]
    num_steps = max(steps_per_clip)
    start = time.perf_counter()
    sim_pos, ref_pos, qpos, alive = _play_clips(expert, training_state, num_steps)
    play_s = time.perf_counter() - start

    per_clip = []
    for i, clip in enumerate(expert.clips):
        n = min(steps_per_clip[i], int(alive[:, i].sum()))
        sim, ref = sim_pos[:n, i], ref_pos[:n, i]
        distance = np.linalg.norm(sim - ref, axis=-1).mean(-1)
        failed = distance > EVAL_FAILURE_DISTANCE_M
        tracked = int(np.argmax(failed)) if failed.any() else n
        tracked = max(tracked, 1)
        s, r = jnp.asarray(sim[:tracked]), jnp.asarray(ref[:tracked])
        row = {
            "clip": clip.name,
            "frames": n,
            "frames_tracked": tracked,
            "success": bool(not failed.any()),
            "g_mpjpe_mm": 1e3 * float(jnp.mean(metrics.g_mpjpe_m(s, r))),
            "mpjpe_mm": 1e3 * float(jnp.mean(metrics.mpjpe_m(s, r))),
            "pa_mpjpe_mm": 1e3 * float(jnp.mean(metrics.pa_mpjpe_m(s, r))),
            "accel_error_mm": (1e3 * float(jnp.mean(metrics.accel_error_m_per_frame2(s, r))) if tracked >= 3 else None),
        }
        per_clip.append(row)

    def mean_of(key, rows):  # None (JSON null) when no clip has the value
        values = [r[key] for r in rows if r[key] is not None]
        return float(np.mean(values)) if values else None

    keys = ("g_mpjpe_mm", "mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm")
    successes = [r for r in per_clip if r["success"]]
    summary = {
        "run_dir": str(out),
        "iteration": int(np.asarray(training_state.iteration)),
        "seed_index": seed_index,
        "clips": len(per_clip),
        "success_rate": len(successes) / len(per_clip),
        **{k: mean_of(k, per_clip) for k in keys},
        "success_only": {k: mean_of(k, successes) for k in keys},
        "per_clip": per_clip,
        "play_seconds": play_s,
    }
    if video_clip is not None or video_path is not None:
        frames = {row["clip"]: row["frames"] for row in per_clip}
        summary["video"] = str(_write_video(expert, qpos, frames, video_clip, video_path, out))
    return summary


def _write_video(expert: Expert, qpos, frames: dict[str, int], clip_name, path, out) -> Path:
    """Simulation (left) next to the reference (right) for one clip's played frames."""
    from physhmr_jax.humanoid.render import render_qpos, write_side_by_side
    from physhmr_jax.humanoid.simulation import qpos_qvel_from_state

    names = [c.name for c in expert.clips]
    clip_name = clip_name or names[0]
    if clip_name not in names:
        raise ValueError(f"clip {clip_name!r} is not among the evaluated clips {names}")
    i = names.index(clip_name)
    n = frames[clip_name]
    times = jnp.arange(n, dtype=jnp.float32) * expert.env.dt
    ref = expert.motion_lib.state_at(jnp.full((n,), i, jnp.int32), times)
    ref_qpos = np.asarray(qpos_qvel_from_state(ref)[0])
    path = Path(path) if path is not None else Path(out) / f"eval_{clip_name}.mp4"
    model = expert.humanoid.mj_model
    write_side_by_side(path, render_qpos(model, qpos[:n, i]), render_qpos(model, ref_qpos), fps=1.0 / expert.env.dt)
    return path


__all__ = [
    "EVAL_FAILURE_DISTANCE_M",
    "PROCEDURAL",
    "RUN_PRESETS",
    "Expert",
    "build_expert",
    "config_from_dict",
    "evaluate_expert",
    "expert_config",
    "load_motions",
    "restore_training_state",
    "select_skeleton",
    "train_expert",
]
