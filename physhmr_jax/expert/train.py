"""``physhmr train expert``: PPO on the imitation env through the generic training driver."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import jax
import ml_collections
import numpy as np

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import ppo, run_dir, runner
from physhmr_jax.envs import assist, imitation, wrappers
from physhmr_jax.envs.motion_prior import make_motion_prior
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert import evaluate as expert_evaluate
from physhmr_jax.expert.build import Expert, build_expert

EVAL_G_MPJPE = "eval/g_mpjpe_mm"  # in-training evaluation, besides names.EVAL_SUCCESS_RATE
EVAL_MPJPE = "eval/mpjpe_mm"
EVAL_PA_MPJPE = "eval/pa_mpjpe_mm"
# Mean over clips of the fraction of a clip's frames tracked before PHC's failure rule trips: a
# finer curve than the success rate (a clip held to its last frame but one counts 0 there).
EVAL_TRACKED_FRACTION = "eval/tracked_fraction"
# Libraries of at most this many clips also log each clip's frames tracked, which says which clip
# an evaluation lost; larger ones (AMASS) only the means.
MAX_CLIP_COLUMNS = 32
# Logged name -> key of PHC's summary (``expert/evaluate.summarize_clips``).
_SUMMARY_KEYS = {names.EVAL_SUCCESS_RATE: "success_rate", EVAL_G_MPJPE: "g_mpjpe_mm", EVAL_MPJPE: "mpjpe_mm",
                 EVAL_PA_MPJPE: "pa_mpjpe_mm"}  # fmt: skip


def eval_clip_metric(clip: str) -> str:
    """The column of one clip's frames tracked in an in-training evaluation."""
    return f"{names.EVAL_PREFIX}clip/{clip}/frames_tracked"


def eval_metrics(per_clip: Sequence[dict]) -> dict[str, float]:
    """One seed's logged figures of an in-training evaluation from its per-clip rows
    (``expert/evaluate.tracking_results``): PHC's summary, the mean fraction tracked and, for at
    most :data:`MAX_CLIP_COLUMNS` clips, each clip's frames tracked. The student's evaluation
    logs the same (its videos as clips)."""
    summary = expert_evaluate.summarize_clips(per_clip)
    row = {name: np.nan if summary[key] is None else float(summary[key]) for name, key in _SUMMARY_KEYS.items()}
    row[EVAL_TRACKED_FRACTION] = float(np.mean([c["frames_tracked"] / c["frames"] for c in per_clip]))
    if len(per_clip) <= MAX_CLIP_COLUMNS:
        row.update({eval_clip_metric(c["clip"]): float(c["frames_tracked"]) for c in per_clip})
    return row


def eval_columns(rows: Sequence[dict[str, float]], rename=lambda name: name) -> dict[str, np.ndarray]:
    """Per-seed :func:`eval_metrics` rows -> ``{name: [S]}``, the driver's ``evaluate`` result."""
    return {rename(name): np.array([r[name] for r in rows]) for name in rows[0]}


# curves.png of an expert run: the sample-efficiency curve first, then training figures.
CURVE_PANELS = {
    names.EVAL_SUCCESS_RATE: "eval: clips tracked from frame 0",
    EVAL_G_MPJPE: "eval: G-MPJPE (mm)",
    **run_dir.CURVE_PANELS,
    names.env_metric(imitation.BODY_DISTANCE_MEAN): "mean body error (m)",
    names.sgd_metric("learning_rate"): "learning rate",
    names.sgd_metric("clip_fraction"): "clip fraction",
    names.env_metric(wrappers.NAN): "non-finite physics per step",
}
# Last-iteration figures a training summary reports (seed means).
SUMMARY_METRICS = (
    names.EVAL_SUCCESS_RATE,
    EVAL_G_MPJPE,
    names.EPISODE_RETURN,
    names.EPISODE_LENGTH,
    names.EPISODE_SUCCESS_RATE,
    names.env_metric(imitation.BODY_DISTANCE_MEAN),
)


def make_trainer(expert, mesh=None) -> runner.Trainer:
    """The driver around PPO on the expert's training env."""
    cfg = expert.ppo_config
    prior = make_motion_prior(expert.env.dt, assist.motion_lib_of)  # used when ppo.amp_weight > 0
    algorithm = ppo.make_algorithm(
        expert.training_env, cfg, motion_prior=prior, curriculum=expert.curriculum, mirror=expert.mirror
    )
    return runner.Trainer(algorithm, num_seeds=cfg.num_seeds, mesh=mesh)


def make_evaluator(expert: Expert):
    """``evaluate(training_state [S, ...]) -> {name: [S]}``: every clip from its first frame.

    The same compiled program and the same numbers as ``physhmr eval expert`` on a
    checkpoint of that state (one seed at a time; compiled on the first call, then reused).
    """
    play = expert_evaluate.make_play_clips(expert, max(expert_evaluate.steps_per_clip(expert)))

    def seed_metrics(policy) -> dict[str, float]:
        extras = play(policy, expert.motion_lib).extras
        return eval_metrics(
            expert_evaluate.clip_results(
                expert,
                np.asarray(extras[expert_evaluate.SIM_BODY_POS]),
                np.asarray(extras[expert_evaluate.REF_BODY_POS]),
            )
        )

    def evaluate(training_state) -> dict[str, np.ndarray]:
        states = [expert_evaluate.seed_state(training_state, s) for s in range(int(training_state.iteration.shape[0]))]
        metrics = eval_columns([seed_metrics(ppo.policy_params(s)) for s in states])
        if training_state.policy_average is not None:  # the current weights too, beside their average
            current = [seed_metrics(ppo.current_policy_params(s)) for s in states]
            metrics.update(eval_columns(current, names.current_policy_eval_metric))
        return metrics

    return evaluate


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
        evaluate=make_evaluator(expert) if config.run.eval_every > 0 else None,
        evaluate_every=config.run.eval_every,
    )
    return runner.run_summary(out, loop_state, rows, start, SUMMARY_METRICS)


__all__ = [
    "CURVE_PANELS",
    "EVAL_TRACKED_FRACTION",
    "MAX_CLIP_COLUMNS",
    "eval_clip_metric",
    "eval_columns",
    "eval_metrics",
    "make_evaluator",
    "make_trainer",
    "train_expert",
]
