"""``physhmr train student``: DAgger (or BC + RL fine-tuning) on the vision env through the
generic training driver: the same jitted, sharded, seed-vmapped loop, run directory,
checkpoints and exact resume as the expert's."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import jax
import ml_collections
import numpy as np

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import ppo, run_dir, runner
from physhmr_jax.envs import imitation, vision, wrappers
from physhmr_jax.expert.train import EVAL_G_MPJPE
from physhmr_jax.student import config as student_config
from physhmr_jax.student.build import build_student, make_algorithm, with_split
from physhmr_jax.student.evaluate import make_evaluator

CURVE_PANELS = {
    names.EVAL_SUCCESS_RATE: "eval: videos tracked from frame 0",
    EVAL_G_MPJPE: "eval: G-MPJPE (mm)",
    names.TEACHER_ACTION_MSE: "MSE to the teacher's action",
    **run_dir.CURVE_PANELS,
    names.env_metric(imitation.BODY_DISTANCE_MEAN): "mean body error (m)",
    names.sgd_metric("distill_loss"): "distillation loss (minibatch MSE)",
    names.env_metric(vision.VIDEO_END): "video ends per step",
    names.env_metric(wrappers.NAN): "non-finite physics per step",
}
SUMMARY_METRICS = (
    names.EVAL_SUCCESS_RATE,
    EVAL_G_MPJPE,
    names.TEACHER_ACTION_MSE,
    names.EPISODE_LENGTH,
    names.EPISODE_SUCCESS_RATE,
    names.env_metric(imitation.BODY_DISTANCE_MEAN),
)


def train_student(
    config: ml_collections.ConfigDict,
    out: str | Path,
    *,
    resume: bool = False,
    resume_iterations: int | None = None,
    progress: bool = True,
    mesh=None,
    log=print,
) -> dict:
    """Train (or resume) a student into run directory ``out``; returns a summary dict."""
    out = Path(out)
    if resume:
        config = student_config.load_config(out)
        if resume_iterations is not None:
            config.run.iterations = resume_iterations
    student = build_student(config)
    if jax.process_index() == 0:
        run_dir.save_config(out, config.to_dict())
    cfg = student.ppo_config
    start_from = None
    if config.init.path and not resume:
        from physhmr_jax.expert.evaluate import restore_seeds, seed_state

        # Restored by the init run's own settings (its seeds, its discriminator or none).
        init_cfg = student_config.ppo_config(student_config.load_config(config.init.path))
        states = restore_seeds(config.init.path, student.training_env, init_cfg)
        init = seed_state(states, config.init.seed_index)
        log(f"[train student] starting from {config.init.path} (iteration {int(init.iteration)})")
        policy = ppo.policy_params(init)  # the policy the init run stands for (its average where kept)
        start_from = functools.partial(
            runner.start_every_seed_from,
            params={**init.params, "policy": policy.params["policy"]},
            normalizer_params=policy.normalizer_params,
        )
    trainer = runner.Trainer(make_algorithm(student), num_seeds=cfg.num_seeds, mesh=mesh)
    log(
        f"[train student] stage {config.stage}, {student.data.video_lib.num_videos} video(s) of "
        f"{student.data.motion_lib.num_clips} clip(s), {cfg.num_seeds} seed(s) x {cfg.num_envs} envs on "
        f"{trainer.mesh.size} device(s); observation {student.env.observation_size}; run dir {out}"
    )
    start = time.perf_counter()
    loop_state, rows = runner.run_training(
        trainer,
        student.data,
        out,
        num_iterations=config.run.iterations,
        seed=config.run.seed,
        checkpoint_every=config.run.checkpoint_every,
        resume=resume,
        progress=progress,
        curve_panels=CURVE_PANELS,
        evaluate=make_evaluator(with_split(student, config, config.data.eval_split)) if config.run.eval_every else None,
        evaluate_every=config.run.eval_every,
        start_from=start_from,
    )
    summary = runner.run_summary(out, loop_state, rows, start, SUMMARY_METRICS)
    first = [r for r in rows if r["iteration"] == min(r["iteration"] for r in rows)] if rows else []
    if first and names.TEACHER_ACTION_MSE in first[0]:
        summary["first_" + names.TEACHER_ACTION_MSE] = float(np.mean([r[names.TEACHER_ACTION_MSE] for r in first]))
    return summary


__all__ = ["CURVE_PANELS", "train_student"]
