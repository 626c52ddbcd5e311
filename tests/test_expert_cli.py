"""The expert's command line end to end: ``physhmr train expert`` then ``physhmr eval expert``."""

from __future__ import annotations

import json

import chex
import jax
import numpy as np
import pytest
from video_fixtures import synthetic_clip

from physhmr_jax import cli


@pytest.mark.slow
def test_cli_train_and_eval_expert(tmp_path, capsys):
    """``physhmr train expert`` writes a complete run directory; ``physhmr eval expert`` reads it.

    In a file of its own so that ``pytest -n 2 --dist loadfile`` runs its three MJX compiles
    (training init, train step, evaluation scan) beside ``test_ppo.py``'s rather than after them.
    """
    motions, run = tmp_path / "motions", tmp_path / "run"
    motions.mkdir()
    # The two clips of tests/test_student.py's teacher (40 and 25 frames, smoke preset): the
    # evaluation here is then the very program that test's two-stage tracker compiles (the
    # same env, networks, body and shapes), found in the persistent compilation cache when
    # that test has got there first (it runs first on the other worker: conftest.py).
    for clip in (synthetic_clip("walk", 40, 0.5), synthetic_clip("turn", 25, -1.0)):
        clip.save(motions / f"{clip.name}.npz")
    args = ["train", "expert", "--preset", "smoke", "--motions", str(motions), "--out", str(run),
            "--iterations", "3", "--checkpoint-every", "2", "--no-progress", "--set", "run.eval_every=2"]  # fmt: skip
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout is the JSON summary alone; the log goes to stderr
    assert "[train expert] 2 clip(s)" in captured.err
    assert summary["iterations"] == 3 and summary["env_steps"] == 3 * 8 * 8
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["2", "3"]
    config = json.loads((run / "config.json").read_text())
    assert config["ppo"]["num_envs"] == 8 and config["motions"]["path"] == str(motions)
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
    host = lambda tree: jax.tree.map(np.asarray, tree)  # noqa: E731
    chex.assert_trees_all_equal(host(params["policy"]), host(state.params["policy"]))
    chex.assert_trees_all_equal(host(normalizer), host(state.normalizer_params))
    obs = np.random.default_rng(0).normal(size=(4, expert.env.observation_size)).astype(np.float32)
    np.testing.assert_allclose(networks.policy(params, normalizer, obs)[0],
                               networks.policy(state.params, state.normalizer_params, obs)[0], rtol=1e-5, atol=1e-7)  # fmt: skip

    # A bad --set value is one line naming the key, the value and the expected type.
    bad = ["train", "expert", "--preset", "smoke", "--out", str(tmp_path / "bad"), "--set", "ppo.learning_rate=abc"]
    assert cli.main(bad) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err == "error: --set ppo.learning_rate=abc: expected a number (like 0.0001), got a string", err
