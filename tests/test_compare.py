"""``physhmr bench compare``: runs' curves read from metrics.csv and compared at equal env steps."""

from __future__ import annotations

import json

import numpy as np

from physhmr_jax import cli
from physhmr_jax.agents.run_dir import MetricsLog


def _run(path, successes_by_seed, every=2):
    """A run directory whose eval/success_rate is logged every ``every`` iterations."""
    path.mkdir()
    log = MetricsLog(path, tensorboard=False)
    for i in range(1, len(successes_by_seed[0]) + 1):
        metrics = {"rollout/reward_mean": np.array([0.1 * i] * len(successes_by_seed))}
        if i % every == 0:
            metrics["eval/success_rate"] = np.array([s[i - 1] for s in successes_by_seed])
        log.write(i, 100.0 * i, float(i), metrics)
    log.close()


def test_compare_at_equal_env_steps(tmp_path, capsys):
    # Run a: 2 seeds, 4 iterations (100 env steps each), eval at iterations 2 and 4.
    # Run b: 2 seeds, 6 iterations, eval at 2, 4, 6. Common eval steps: 200 and 400.
    _run(tmp_path / "a", [[0, 0.0, 0, 0.5], [0, 0.5, 0, 1.0]])
    _run(tmp_path / "b", [[0, 0.0, 0, 0.0, 0, 1.0], [0, 0.0, 0, 0.5, 0, 1.0]])
    out = tmp_path / "fig.png"
    args = ["bench", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out), "--json",
            "--metric", "eval/success_rate"]  # fmt: skip
    assert cli.main(args) == 0
    table = json.loads(capsys.readouterr().out)
    a, b = (table["metrics"]["eval/success_rate"][str(tmp_path / n)] for n in "ab")
    # a at 200: seeds 0.0 and 0.5 -> mean 0.25 [0, 0.5]; at 400: 0.5 and 1.0 -> 0.75 [0.5, 1].
    assert [p["env_steps"] for p in a] == [200.0, 400.0] == [p["env_steps"] for p in b]
    assert [(p["mean"], p["min"], p["max"]) for p in a] == [(0.25, 0.0, 0.5), (0.75, 0.5, 1.0)]
    # b at 200: 0, 0 -> 0; at 400: 0.0 and 0.5 -> 0.25 (its 600 is not common).
    assert [p["mean"] for p in b] == [0.0, 0.25] and b[1]["per_seed"] == [0.0, 0.5]
    assert out.stat().st_size > 5_000
    # A folder that is not a run is one line naming it.
    assert cli.main(["bench", "compare", str(tmp_path), "--out", str(out)]) == cli.EXIT_USER_ERROR
    assert "no metrics.csv" in capsys.readouterr().err


def test_compare_pools_runs_that_share_a_label(tmp_path, capsys):
    # Two pairs of seeds of one variant under one label: one line over four seeds, at the env
    # steps both logged (200, 400; c's 600 is left out); a third run under its own label.
    _run(tmp_path / "a", [[0, 0.0, 0, 0.5], [0, 0.5, 0, 1.0]])
    _run(tmp_path / "c", [[0, 1.0, 0, 1.0, 0, 1.0], [0, 0.0, 0, 0.5, 0, 1.0]])
    _run(tmp_path / "b", [[0, 0.0, 0, 0.0], [0, 0.0, 0, 0.5]])
    out = tmp_path / "fig.png"
    runs = [str(tmp_path / n) for n in "acb"]
    args = ["bench", "compare", *runs, "--out", str(out), "--json", "--metric", "eval/success_rate",
            "--labels", "variant", "variant", "other"]  # fmt: skip
    assert cli.main(args) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["groups"] == {"variant": runs[:2], "other": runs[2:]}
    pooled = table["metrics"]["eval/success_rate"]["variant"]
    assert [p["env_steps"] for p in pooled] == [200.0, 400.0]
    assert pooled[0]["per_seed"] == [0.0, 0.5, 1.0, 0.0] and pooled[0]["mean"] == 0.375
    assert (pooled[1]["min"], pooled[1]["max"], pooled[1]["mean"]) == (0.5, 1.0, 0.75)
    assert [p["mean"] for p in table["metrics"]["eval/success_rate"]["other"]] == [0.0, 0.25]
    assert out.stat().st_size > 5_000
    # One label per run, or one line saying so.
    assert cli.main([*args[:-3], "variant", "other"]) == cli.EXIT_USER_ERROR
    assert "2 label(s) for 3 run(s)" in capsys.readouterr().err
