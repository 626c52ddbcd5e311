"""``experiments/eval_summary.py``: the counts over in-training evaluations, on a hand-made
metrics.csv (clip lengths are not in the CSV: inferred, and checked against each pair's count)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "eval_summary.py"
_spec = importlib.util.spec_from_file_location("eval_summary", _SCRIPT)
eval_summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_summary)


def _write(run: Path, rows: list[dict]) -> None:
    run.mkdir()
    with (run / "metrics.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _row(steps, seed, frames: dict[str, int], held: int) -> dict:
    row = {"iteration": 0, "seed": seed, "env_steps": float(steps), "eval/success_rate": held / len(frames)}
    row.update({f"eval/clip/{c}/frames_tracked": float(n) for c, n in frames.items()})
    return row


def test_counts_by_hand(tmp_path, capsys):
    # walk 100 frames, run 50 (never held: best 20), squat 80. A training row without evaluation.
    rows = [
        _row(10, 0, {"walk": 40, "run": 12, "squat": 80}, 1),
        _row(10, 1, {"walk": 100, "run": 20, "squat": 80}, 2),
        _row(20, 0, {"walk": 100, "run": 15, "squat": 80}, 2),
        _row(20, 1, {"walk": 100, "run": 20, "squat": 61}, 1),
        {"iteration": 1, "seed": 0, "env_steps": 25.0, "eval/success_rate": "",
         "eval/clip/walk/frames_tracked": "", "eval/clip/run/frames_tracked": "", "eval/clip/squat/frames_tracked": ""},
    ]  # fmt: skip
    _write(tmp_path / "run", rows)
    evals = eval_summary.read_evaluations(tmp_path / "run", 0, 100)
    assert len(evals) == 4
    s = eval_summary.summarize(evals)
    assert s["pairs"] == 4 and s["clips"] == 3 and s["mean"] == pytest.approx(1.5)
    assert s["at_least"] == {1: 4, 2: 2, 3: 0}
    assert s["held"] == {"walk": 3, "run": 0, "squat": 3}
    assert eval_summary.summarize(eval_summary.read_evaluations(tmp_path / "run", 15, 20))["held"] == {
        "walk": 2, "run": 0, "squat": 1,
    }  # fmt: skip
    eval_summary.main([str(tmp_path / "run"), "--from", "15"])
    assert "2 (evaluation, seed) pairs; mean clips held 1.50 of 3" in capsys.readouterr().out


def test_bad_input_names_the_file(tmp_path):
    with pytest.raises(SystemExit, match="nope/metrics.csv: no such file"):
        eval_summary.read_evaluations(tmp_path / "nope", 0, 1)
    _write(tmp_path / "plain", [{"iteration": 0, "seed": 0, "env_steps": 1.0}])
    with pytest.raises(SystemExit, match="no eval/success_rate column"):
        eval_summary.read_evaluations(tmp_path / "plain", 0, 1)
    # counts no choice of lengths explains: one clip held, the pair says two
    _write(tmp_path / "odd", [_row(10, 0, {"walk": 100, "run": 20}, 2), _row(10, 1, {"walk": 90, "run": 20}, 0)])
    with pytest.raises(SystemExit, match="cannot tell the clips' lengths"):
        eval_summary.summarize(eval_summary.read_evaluations(tmp_path / "odd", 0, 100))
