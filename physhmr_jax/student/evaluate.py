"""``physhmr eval student``: every video of a split from its first frame, PHC's protocol.

Video i plays in environment i from frame 0 (the humanoid starts at the reference state of
the motion the video shows, as the expert's evaluation does) with the student's mean
action on the plain vision env (no reset, no early termination); a video fails at the
first frame whose mean body distance to the motion exceeds 0.5 m (PHC's rule,
:func:`physhmr_jax.eval.metrics.tracking_success`); errors average the frames tracked
before that. The student reads only the video; the motion is read to score it.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import jax
import numpy as np

from physhmr_jax.agents import acting, ppo
from physhmr_jax.expert import evaluate as expert_evaluate
from physhmr_jax.student.build import Student, StudentData


def steps_per_video(student: Student) -> list[int]:
    """Frames played per video: every control step whose video frame exists."""
    lib = student.data.video_lib
    durations = np.asarray(lib.video_duration_s)
    return [int(math.floor(d / student.env.dt + 1e-3)) + 1 for d in durations]


def make_play_videos(student: Student, num_steps: int):
    """``play(training_state, data) -> Transition [T, V]`` (jitted): video i in env i from frame 0."""
    env = student.env
    networks = ppo.make_networks(env, student.ppo_config)

    def play(training_state: ppo.TrainingState, data: StudentData) -> acting.Transition:
        policy = expert_evaluate.mean_action_policy(networks, training_state)
        record = expert_evaluate.record_tracking(data.motion_lib)
        return expert_evaluate.play_from_first_frames(env, policy, data, data.video_lib.num_videos, num_steps, record)

    return jax.jit(play)


def video_results(student: Student, play, training_state) -> dict:
    """Per-video rows and their summary for one seed's ``training_state`` (or its
    ``acting.PolicyParams``: the play reads only the policy and normaliser)."""
    extras = jax.tree.map(np.asarray, play(training_state, student.data).extras)
    rows = expert_evaluate.tracking_results(
        list(student.data.video_lib.video_names),
        steps_per_video(student),
        extras[expert_evaluate.SIM_BODY_POS],
        extras[expert_evaluate.REF_BODY_POS],
    )
    return {**expert_evaluate.summarize_clips(rows), "per_video": rows}


def make_evaluator(student: Student):
    """``evaluate(training_state [S, ...]) -> {name: [S]}`` on ``student``'s videos (in training)."""
    from physhmr_jax.expert.train import eval_columns, eval_metrics

    play = make_play_videos(student, max(steps_per_video(student)))

    def evaluate(training_state) -> dict[str, np.ndarray]:
        seeds = range(int(training_state.iteration.shape[0]))
        rows = [video_results(student, play, expert_evaluate.seed_state(training_state, s))["per_video"] for s in seeds]
        return eval_columns([eval_metrics(r) for r in rows])

    return evaluate


def evaluate_student(
    out: str | Path, *, split: str = "test", seed_index: int = 0, iteration: int | None = None
) -> dict:
    """Success rate and tracking errors (mm) of a trained student on the videos of ``split``.

    The student plays as ``eval vision`` plays it (:func:`load_student_policy`, then
    :func:`build_student_on_videos`: no teacher weights read, the same compiled program, so
    one command's compile serves the other through JAX's persistent cache)."""
    from physhmr_jax.student.build import build_student_on_videos
    from physhmr_jax.student.export import load_student_policy
    from physhmr_jax.vision.encoder_train import split_shards
    from physhmr_jax.vision.shards import load_sample

    policy = load_student_policy(out, seed_index=seed_index, iteration=iteration)
    samples = [load_sample(p, load_frames=False) for p in split_shards(policy.config.data.path, split)]
    student = build_student_on_videos(policy, samples)
    start = time.perf_counter()
    result = video_results(student, make_play_videos(student, max(steps_per_video(student))), policy.state)
    return {
        "run_dir": str(out),
        "split": split,
        "iteration": policy.iteration,
        "seed_index": seed_index,
        **result,
        "play_seconds": time.perf_counter() - start,
    }


__all__ = ["evaluate_student", "make_evaluator", "make_play_videos", "steps_per_video", "video_results"]
