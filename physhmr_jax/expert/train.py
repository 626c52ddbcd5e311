"""``physhmr train expert``: PPO on the imitation env through the generic training driver."""

from __future__ import annotations

import time
from pathlib import Path

import jax
import ml_collections
import numpy as np

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import ppo, run_dir, runner, sharding
from physhmr_jax.envs import imitation, wrappers
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert

# curves.png of an expert run: the driver's default panels and the tracking error.
CURVE_PANELS = {
    **run_dir.CURVE_PANELS,
    names.env_metric(imitation.BODY_DISTANCE_MEAN): "mean body error (m)",
    names.env_metric(wrappers.NAN): "non-finite physics per step",
}
# Last-iteration figures a training summary reports (seed means).
SUMMARY_METRICS = (
    names.EPISODE_RETURN,
    names.EPISODE_LENGTH,
    names.EPISODE_SUCCESS_RATE,
    names.env_metric(imitation.BODY_DISTANCE_MEAN),
)


def make_trainer(expert, mesh=None) -> runner.Trainer:
    """The driver around PPO on the expert's training env."""
    cfg = expert.ppo_config
    return runner.Trainer(ppo.make_algorithm(expert.training_env, cfg), num_seeds=cfg.num_seeds, mesh=mesh)


def train_expert(
    config: ml_collections.ConfigDict,
    out: str | Path,
    *,
    resume: bool = False,
    resume_iterations: int | None = None,
    progress: bool = True,
    mesh=None,
    log=print,
) -> dict:
    """Train (or resume) an expert into run directory ``out``; returns a summary dict.

    On ``resume`` the run's saved ``config.json`` is used, not ``config``; only the total
    number of iterations may change (``resume_iterations``).
    """
    out = Path(out)
    if resume:
        config = expert_config.load_config(out)
        if resume_iterations is not None:
            config.run.iterations = resume_iterations
    expert = build_expert(config)
    if jax.process_index() == 0:
        run_dir.save_config(out, config.to_dict())
    trainer = make_trainer(expert, mesh)
    cfg = expert.ppo_config
    log(
        f"[train expert] {len(expert.clips)} clip(s), {cfg.num_seeds} seed(s) x {cfg.num_envs} envs on "
        f"{trainer.mesh.size} device(s) ({jax.devices()[0].platform}); "
        f"{trainer.env_steps_per_iteration:,} env steps per iteration; run dir {out}"
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
        curve_panels=CURVE_PANELS,
    )
    last = [r for r in rows if r["iteration"] == max(r["iteration"] for r in rows)] if rows else []
    summary = {
        "run_dir": str(out),
        "iterations": int(sharding.to_host(loop_state.training_state.iteration)[0]),
        "env_steps": float(sharding.to_host(loop_state.training_state.env_steps)[0]),
        "wall_time_s_this_session": time.perf_counter() - start,
    }
    for name in SUMMARY_METRICS:
        if last and name in last[0]:
            summary[name] = float(np.mean([r[name] for r in last]))
    return summary


__all__ = ["CURVE_PANELS", "make_trainer", "train_expert"]
