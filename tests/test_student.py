"""The command line end to end at smoke size: ``physhmr train expert`` / ``eval expert``, then
``physhmr train student`` distilling a teacher on videos, ``eval student``, ``eval vision``.

The teacher is an untrained expert policy (a weak teacher is enough to test the plumbing):
with residual actions its labels are the reference pose of the next frame, which the
student must learn to produce from the video and its own body alone.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json

import chex
import jax
import numpy as np
import pytest
from video_fixtures import synthetic_clip, synthetic_motion_lib, synthetic_video

from physhmr_jax import cli
from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import ppo
from physhmr_jax.envs import motion_prior
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.expert.export import save_policy
from physhmr_jax.student import config as student_config
from physhmr_jax.student.build import build_student, make_algorithm
from physhmr_jax.student.export import load_student_policy
from physhmr_jax.vision.shards import save_sample


@pytest.mark.slow
def test_cli_train_and_eval_expert(tmp_path, capsys):
    """``physhmr train expert`` writes a complete run directory; ``physhmr eval expert`` reads it.

    First in this file (one pytest-xdist worker, in order): its evaluation program is the
    two-stage tracker's of the student test below, which then loads it from the persistent
    compilation cache instead of compiling it again.
    """
    motions, run = tmp_path / "motions", tmp_path / "run"
    motions.mkdir()
    # The two clips of the student test's teacher (40 and 25 frames, smoke preset): the
    # evaluation here is then the very program that test's two-stage tracker plays (the same
    # env, networks, body and shapes).
    for clip in (synthetic_clip("walk", 40, 0.5), synthetic_clip("turn", 25, -1.0)):
        clip.save(motions / f"{clip.name}.npz")
    # Failure-weighted clip sampling (per half clip, sharing out steps) and a moving average of the policy on: their states are
    # part of every checkpoint that eval, export and a resume restore (the defaults, the
    # library's weights and no average, are every other run's); evaluations play the average.
    args = ["train", "expert", "--preset", "smoke", "--motions", str(motions), "--out", str(run),
            "--iterations", "3", "--checkpoint-every", "2", "--no-progress", "--set", "run.eval_every=2",
            "--set", "motions.clip_sampling=failure", "--set", "motions.failure_segments=2",
            "--set", "motions.failure_per=step", "--set", "ppo.policy_average_decay=0.5"]  # fmt: skip
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout is the JSON summary alone; the log goes to stderr
    assert "[train expert] 2 clip(s)" in captured.err
    assert summary["iterations"] == 3 and summary["env_steps"] == 3 * 8 * 8
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["2", "3"]
    config = json.loads((run / "config.json").read_text())
    assert config["ppo"]["num_envs"] == 8 and config["motions"]["path"] == str(motions)
    assert config["motions"]["clip_sampling"] == "failure"
    lines = (run / "metrics.csv").read_text().splitlines()
    assert len(lines) == 1 + 3 and lines[0].startswith("iteration,seed,env_steps,wall_time_s")
    assert (run / "curves.png").stat().st_size > 10_000
    assert any((run / "tb").iterdir())
    # A second fresh start into the same directory is a user error, not an overwrite.
    assert cli.main(args) == cli.EXIT_USER_ERROR
    assert "already holds checkpoints" in capsys.readouterr().err

    # The in-training evaluation (iteration 2) is the program eval expert runs on that checkpoint.
    header, *rows = [line.split(",") for line in lines]
    in_training = dict(zip(header, rows[1], strict=True))
    assert in_training["iteration"] == "2" and rows[0][header.index("eval/success_rate")] == ""
    # The current weights are evaluated beside their average, under eval/current/.
    assert 0.0 <= float(in_training["eval/current/success_rate"]) <= 1.0
    assert np.isfinite(float(in_training["eval/current/g_mpjpe_mm"]))
    assert summary["eval_iteration"] == 2

    video = tmp_path / "eval.mp4"
    assert cli.main(["eval", "expert", "--run", str(run), "--iteration", "2", "--json", "--video", str(video)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 2 and result["iteration"] == 2
    assert float(in_training["eval/success_rate"]) == result["success_rate"]
    for key in ("g_mpjpe_mm", "mpjpe_mm", "pa_mpjpe_mm"):
        assert float(in_training[f"eval/{key}"]) == pytest.approx(result[key], rel=1e-6), key
    # Every frame of each clip played (the plain env never resets).
    assert {row["clip"]: row["frames"] for row in result["per_clip"]} == {"turn": 25, "walk": 40}
    # Each clip's frames tracked, and their mean fraction, as eval expert counts them.
    for row in result["per_clip"]:
        assert float(in_training[f"eval/clip/{row['clip']}/frames_tracked"]) == row["frames_tracked"]
    fraction = np.mean([row["frames_tracked"] / row["frames"] for row in result["per_clip"]])
    assert float(in_training["eval/tracked_fraction"]) == pytest.approx(fraction, rel=1e-6)
    # With failure-weighted sampling each clip also reports what training saw of it.
    assert abs(sum(row["training_clip_weight"] for row in result["per_clip"]) - 1.0) < 1e-5
    assert all(0.0 < row["training_failure_rate"] <= 1.0 for row in result["per_clip"])
    # ... and its share of the training steps (the weight is a reset's).
    assert sum(row["training_step_share"] for row in result["per_clip"]) == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 < row["training_step_share"] < 1.0 for row in result["per_clip"])
    # ... and where in the clip its starts were drawn: each half's share of the clip's.
    for row in result["per_clip"]:
        assert len(row["training_segment_weights"]) == 2 and sum(row["training_segment_weights"]) == pytest.approx(1.0)
    assert 0.0 <= result["success_rate"] <= 1.0
    for key in ("g_mpjpe_mm", "mpjpe_mm", "pa_mpjpe_mm"):
        assert np.isfinite(result[key]) and 0.0 < result[key] < 2000.0, (key, result[key])
    # PA-MPJPE removes rotation, translation and scale: never above MPJPE on the same frames.
    assert result["pa_mpjpe_mm"] <= result["mpjpe_mm"] + 1e-3
    assert video.stat().st_size > 5_000

    # The policy alone, exported and loaded back, acts as the checkpoint's.
    from physhmr_jax.agents import runner
    from physhmr_jax.expert import config as expert_config
    from physhmr_jax.expert.build import build_expert
    from physhmr_jax.expert.evaluate import restore_training_state
    from physhmr_jax.expert.export import load_policy

    policy_file = tmp_path / "policy.npz"
    assert cli.main(["export", "expert", "--run", str(run), "--out", str(policy_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["iteration"] == 3
    networks, params, normalizer, loaded_config = load_policy(policy_file)
    assert loaded_config.to_dict() == config
    expert = build_expert(expert_config.load_config(run))
    state = runner.unreplicate_seed(restore_training_state(run, expert), 0)
    checkpoint_2_average = runner.unreplicate_seed(restore_training_state(run, expert, iteration=2), 0).policy_average
    # The curriculum counted every step of 3 rollouts of 8 envs x 8 steps, decayed by 0.9 per
    # iteration (a NaN-reset step would be left out: none at this size).
    np.testing.assert_allclose(float(state.curriculum.steps.sum()), 64 * (1 + 0.9 + 0.81), rtol=1e-5)
    assert 0.0 <= float(state.curriculum.failures.sum()) <= float(state.curriculum.steps.sum())
    # Sharing out steps (failure_per step), it also counted the episode starts read from the
    # training wrapper: the first rollout's 8, decayed twice, at least.
    assert 8 * 0.81 <= float(state.curriculum.starts.sum()) <= float(state.curriculum.steps.sum())
    host = lambda tree: jax.tree.map(np.asarray, tree)  # noqa: E731
    # The export is the average (0.5 x the last one + 0.5 x iteration 3's weights), not the current weights.
    average = jax.tree.map(lambda a, p: 0.5 * a + 0.5 * p, checkpoint_2_average, state.params["policy"])
    chex.assert_trees_all_close(host(state.policy_average), host(average), rtol=1e-6, atol=1e-7)
    chex.assert_trees_all_equal(host(params["policy"]), host(state.policy_average))
    chex.assert_trees_all_equal(host(normalizer), host(state.normalizer_params))
    obs = np.random.default_rng(0).normal(size=(4, expert.env.observation_size)).astype(np.float32)
    np.testing.assert_allclose(networks.policy(params, normalizer, obs)[0],
                               networks.policy({"policy": state.policy_average}, state.normalizer_params, obs)[0],
                               rtol=1e-5, atol=1e-7)  # fmt: skip

    # A bad --set value is one line naming the key, the value and the expected type.
    bad = ["train", "expert", "--preset", "smoke", "--out", str(tmp_path / "bad"), "--set", "ppo.learning_rate=abc"]
    assert cli.main(bad) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err == "error: --set ppo.learning_rate=abc: expected a number (like 0.0001), got a string", err


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("student")
    motions = root / "motions"
    motions.mkdir()
    for clip in (synthetic_clip("walk", 40, 0.5), synthetic_clip("turn", 25, -1.0)):
        clip.save(motions / f"{clip.name}.npz")
    config = expert_config.default_config("smoke")
    config.motions.path = str(motions)
    expert = build_expert(config)
    state = ppo.make_algorithm(expert.training_env, expert.ppo_config).init(jax.random.PRNGKey(0))
    teacher = root / "teacher.npz"
    save_policy(teacher, config, state)
    lib = synthetic_motion_lib()
    data = root / "videos"
    for split, eye in (("train", [4.0, -3.0, 1.5]), ("test", [-3.0, 2.0, 2.0])):
        save_sample(data / split / "walk.npz", synthetic_video(lib, 0, 40, eye, f"walk_{split}"))
        save_sample(data / split / "turn.npz", synthetic_video(lib, 1, 25, eye, f"turn_{split}"))
    return teacher, data


@pytest.fixture(scope="module")
def distilled(inputs, tmp_path_factory):
    """(run directory, train student's printed summary): 16 DAgger iterations at smoke size."""
    teacher, data = inputs
    run = tmp_path_factory.mktemp("distilled") / "run"
    args = ["train", "student", "--teacher", str(teacher), "--data", str(data), "--preset", "smoke",
            "--out", str(run), "--iterations", "16", "--checkpoint-every", "8", "--no-progress",
            "--set", "ppo.learning_rate=1e-3", "--set", "run.eval_every=16"]  # fmt: skip
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(args) == 0
    return run, json.loads(out.getvalue())


def _teacher_action_mse(run) -> list[float]:
    return [float(r[names.TEACHER_ACTION_MSE]) for r in csv.DictReader((run / "metrics.csv").open())]


@pytest.mark.slow
def test_distillation_halves_the_action_error(inputs, distilled, tmp_path, capsys):
    teacher, data = inputs
    run, summary = distilled
    assert summary["iterations"] == 16 and summary["env_steps"] == 16 * 8 * 8
    error = _teacher_action_mse(run)
    with capsys.disabled():
        print(f"\nMSE to the teacher's action: first iteration {error[0]:.2e}, last 5 {np.mean(error[-5:]):.2e}")
    assert np.mean(error[-5:]) < 0.5 * error[0], error
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["16", "8"]
    config = json.loads((run / "config.json").read_text())
    assert config["stage"] == "distill" and config["ppo"]["kin_weight"] > 1e6
    # eval student: video i in env i from frame 0 on the test split, PHC's metrics.
    assert cli.main(["eval", "student", "--run", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"] == "test" and result["clips"] == 2 and result["iteration"] == 16
    assert {r["clip"]: r["frames"] for r in result["per_video"]} == {"turn_test": 25, "walk_test": 40}
    assert all(np.isfinite(r["g_mpjpe_mm"]) for r in result["per_video"])
    # The in-training evaluation at iteration 16 (test split) is eval student's on that checkpoint.
    in_training = [r for r in csv.DictReader((run / "metrics.csv").open()) if r["iteration"] == "16"][0]
    assert float(in_training["eval/success_rate"]) == result["success_rate"]
    assert float(in_training["eval/g_mpjpe_mm"]) == pytest.approx(result["g_mpjpe_mm"], rel=1e-6)
    for r in result["per_video"]:
        assert float(in_training[f"eval/clip/{r['clip']}/frames_tracked"]) == r["frames_tracked"]
    # The results table on the same test videos: the kinematic baseline (exact estimates in
    # these videos: ~0 error), the two-stage baseline (the estimate retargeted and tracked by
    # the teacher) and the distilled student, both protocols, in one command.
    # The student row plays the run exported as one file (policy, normaliser, its and its
    # teacher's configs: what physhmr_jax/pretrained ships); eval student above read the run.
    student_file = tmp_path / "student.npz"
    assert cli.main(["export", "student", "--run", str(run), "--out", str(student_file), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["kind"] == "student" and exported["iteration"] == 16 and exported["env_steps"] == 16 * 8 * 8
    policy, from_file = load_student_policy(run), load_student_policy(student_file)
    chex.assert_trees_all_equal(from_file.state, policy.state)
    assert from_file.teacher_config.to_dict() == policy.teacher_config.to_dict() and from_file.feature_size == 8
    table = tmp_path / "table"
    args = ["eval", "vision", "--data", str(data), "--runs", f"distilled={student_file}", "--tracker", str(teacher),
            "--out", str(table), "--json"]  # fmt: skip
    assert cli.main(args) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert list(rows) == ["kinematic", "two-stage", "distilled"]
    assert rows["kinematic"]["w_mpjpe_mm"] < 1.0 and rows["kinematic"]["success_rate"] == 1.0
    assert rows["distilled"]["budget"] == f"{16 * 8 * 8:,} env steps per seed (exported, iteration 16)"
    # The same student as eval student saw it (that ran the run directory): frames tracked agree.
    by_video = {r["clip"]: r for r in rows["distilled"]["per_clip"]["phc"]}
    for r in result["per_video"]:
        assert by_video[r["clip"]]["frames_tracked"] == r["frames_tracked"], (by_video[r["clip"]], r)
    for row in rows.values():
        assert row["clips"] == 2 and 0.0 <= row["failure_rate"] <= 1.0
        assert sorted(c["frames"] for c in row["per_clip"]["phc"]) == [25, 40], row["method"]
    assert (table / "results.md").read_text().count("\n| ") == 8  # 2 tables: header + 3 methods
    assert (table / "per_frame_errors.png").stat().st_size > 0
    assert sorted(p.name for p in (table / "two_stage_clips").iterdir()) == ["turn_test.npz", "walk_test.npz"]
    # Fine-tuning with PhysHMR's motion prior builds a discriminator over the humanoid's 716-D
    # transitions, drawn from the student's own motions (shapes only: a fine-tuning iteration
    # would be one more MJX compile, ~2 min here; the prior learns in tests/test_amp.py).
    config = student_config.load_config(run)
    config.ppo.amp_weight, config.ppo.kin_weight = 0.5, student_config.STAGES["finetune"]
    student = build_student(config)
    state = jax.eval_shape(make_algorithm(student).init, jax.random.PRNGKey(0))
    assert state.prior.normalizer_params.mean.shape == (motion_prior.FEATURE_SIZE,) == (716,)
    prior = motion_prior.make_motion_prior(student.env.dt, lambda data: data.motion_lib)
    sample = jax.eval_shape(functools.partial(prior.sample, n=8), jax.random.PRNGKey(0), student.data)
    assert sample.shape == (8, 716)
    # A missing teacher is one line naming the path.
    bad = ["train", "student", "--teacher", str(tmp_path / "none"), "--data", str(data), "--out", str(tmp_path / "b")]
    assert cli.main(bad) == cli.EXIT_USER_ERROR
    assert "not an expert run directory or an exported policy" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.full  # ~55 s more (its init program compiles again); the driver's start_from is
# checked on the toy env in make test (tests/test_ppo.py::test_driver_trains_vmapped_seeds_on_toy_task)
def test_init_starts_from_the_distilled_weights(inputs, distilled, tmp_path):
    teacher, data = inputs
    run, _ = distilled
    error = _teacher_action_mse(run)
    # --init starts from the run's weights: the first iteration already acts like the teacher.
    again = tmp_path / "again"
    args = ["train", "student", "--teacher", str(teacher), "--data", str(data), "--preset", "smoke",
            "--out", str(again), "--iterations", "1", "--no-progress", "--init", str(run)]  # fmt: skip
    assert cli.main(args) == 0
    first = float(next(csv.DictReader((again / "metrics.csv").open()))[names.TEACHER_ACTION_MSE])
    assert first < 0.1 * error[0], (first, error[0])
