"""The expert's command line end to end: ``physhmr train expert`` then ``physhmr eval expert``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from distributed_check import standing_clip

from physhmr_jax import cli


@pytest.mark.slow
def test_cli_train_and_eval_expert(tmp_path, capsys):
    """``physhmr train expert`` writes a complete run directory; ``physhmr eval expert`` reads it.

    In a file of its own so that ``pytest -n 2 --dist loadfile`` runs its two MJX compiles
    (train step, evaluation scan) beside ``test_ppo.py``'s rather than after them.
    """
    motions, run = tmp_path / "motions", tmp_path / "run"
    motions.mkdir()
    standing_clip().save(motions / "stand_glide.npz")
    args = ["train", "expert", "--preset", "smoke", "--motions", str(motions), "--out", str(run),
            "--iterations", "3", "--checkpoint-every", "2", "--no-progress"]  # fmt: skip
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout is the JSON summary alone; the log goes to stderr
    assert "[train expert] 1 clip(s)" in captured.err
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

    video = tmp_path / "eval.mp4"
    assert cli.main(["eval", "expert", "--run", str(run), "--json", "--video", str(video)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 1 and result["iteration"] == 3
    row = result["per_clip"][0]
    # 10 s clip at 30 Hz: 301 frames, every one played (the plain env never resets).
    assert row["clip"] == "stand_glide" and row["frames"] == 301
    assert 0.0 <= result["success_rate"] <= 1.0
    for key in ("g_mpjpe_mm", "mpjpe_mm", "pa_mpjpe_mm"):
        assert np.isfinite(result[key]) and 0.0 < result[key] < 2000.0, (key, result[key])
    # PA-MPJPE removes rotation, translation and scale: never above MPJPE on the same frames.
    assert result["pa_mpjpe_mm"] <= result["mpjpe_mm"] + 1e-3
    assert video.stat().st_size > 5_000

    # A bad --set value is one line naming the key, the value and the expected type.
    bad = ["train", "expert", "--preset", "smoke", "--out", str(tmp_path / "bad"), "--set", "ppo.learning_rate=abc"]
    assert cli.main(bad) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err == "error: --set ppo.learning_rate=abc: expected a number (like 0.0001), got a string", err
