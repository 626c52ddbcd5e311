"""Sample efficiency: several runs' curves against env steps, compared at equal env steps.

``physhmr bench compare RUN... --out FIG.png [--metric eval/success_rate] [--json]`` reads
each run directory's ``metrics.csv`` and draws the chosen metrics against env steps per
seed, one line per run (mean over its seeds, min-max band), and reports every run's
value at the env-step counts that all runs reached (the comparison the project's claims
rest on: equal env steps, several seeds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import run_dir

DEFAULT_METRICS = (names.EVAL_SUCCESS_RATE, "eval/g_mpjpe_mm", names.EPISODE_LENGTH, names.APPROX_KL)


def _curve(rows, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(env steps [I], values [S, I]) at the iterations where the metric was logged."""
    steps, values = run_dir.seed_curves(rows, metric)
    logged = ~np.all(np.isnan(values), axis=0) if values.size else np.zeros(0, bool)
    return steps[logged], values[:, logged]


def compare_runs(runs: Sequence[str | Path], metrics: Sequence[str] = DEFAULT_METRICS) -> tuple[dict, dict]:
    """(table, curves). ``table["metrics"][metric][run]``: the seed mean, min, max and
    per-seed values at the env-step counts every run logged; ``curves[metric][run]``:
    (env steps [I], values [S, I]) wherever the run logged the metric."""
    table: dict = {"runs": [str(r) for r in runs], "metrics": {}}
    curves = {}
    for run in runs:
        path = Path(run) / run_dir.METRICS_FILE
        if not path.is_file():
            raise run_dir.RunDirError(run, f"no {run_dir.METRICS_FILE} (not a training run directory?)")
        _, rows = run_dir.read_metrics(path)
        curves[str(run)] = rows
    for metric in metrics:
        per_run = {name: _curve(rows, metric) for name, rows in curves.items()}
        common = sorted(set.intersection(*(set(steps.tolist()) for steps, _ in per_run.values())))
        at_common = {}
        for name, (steps, values) in per_run.items():
            index = {s: i for i, s in enumerate(steps.tolist())}
            at_common[name] = [
                {"env_steps": s, "mean": float(np.nanmean(values[:, index[s]])),
                 "min": float(np.nanmin(values[:, index[s]])), "max": float(np.nanmax(values[:, index[s]])),
                 "per_seed": [float(v) for v in values[:, index[s]]]}
                for s in common
            ]  # fmt: skip
        table["metrics"][metric] = at_common
    return table, {m: {n: _curve(rows, m) for n, rows in curves.items()} for m in metrics}


def plot_comparison(
    curves: dict, runs: Sequence[str | Path], out: str | Path, *, labels: Sequence[str] | None = None, title: str = ""
) -> Path:
    """One panel per metric of ``curves`` (:func:`compare_runs`), one line per run (seed mean)
    with its min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    metrics = list(curves)
    labels = list(labels) if labels else [Path(r).name for r in runs]
    cols = min(2, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.6 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for (steps, values), label in zip(curves[metric].values(), labels, strict=True):
            if not steps.size:
                continue
            line = ax.plot(steps, np.nanmean(values, axis=0), lw=1.6, marker="o", ms=3, label=label)[0]
            if values.shape[0] > 1:
                ax.fill_between(steps, np.nanmin(values, axis=0), np.nanmax(values, axis=0), alpha=0.2,
                                color=line.get_color(), lw=0)  # fmt: skip
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("env steps per seed")
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 300k, 1M: long tick labels overlap
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title or "mean and min-max over seeds", fontsize=11)
    fig.tight_layout()
    return run_dir.save_figure(fig, out, dpi=90)


__all__ = ["DEFAULT_METRICS", "compare_runs", "plot_comparison"]
