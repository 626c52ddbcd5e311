"""Sample efficiency: several runs' curves against env steps, compared at equal env steps.

``physhmr bench compare RUN... --out FIG.png [--metric eval/success_rate] [--json]`` reads
each run directory's ``metrics.csv`` and draws the chosen metrics against env steps per
seed, one line per run (mean over its seeds, min-max band), and reports every run's
value at the env-step counts that all runs reached (the comparison the project's claims
rest on: equal env steps, several seeds). Runs given the same ``--labels`` entry are one
line: their seeds pooled (two runs of two seeds each: a curve over four seeds) at the env
steps all of them logged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import run_dir
from physhmr_jax.config_io import ConfigError

DEFAULT_METRICS = (names.EVAL_SUCCESS_RATE, "eval/g_mpjpe_mm", names.EPISODE_LENGTH, names.APPROX_KL)


def _curve(rows, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(env steps [I], values [S, I]) at the iterations where the metric was logged."""
    steps, values = run_dir.seed_curves(rows, metric)
    logged = ~np.all(np.isnan(values), axis=0) if values.size else np.zeros(0, bool)
    return steps[logged], values[:, logged]


def compare_runs(
    runs: Sequence[str | Path], metrics: Sequence[str] = DEFAULT_METRICS, labels: Sequence[str] | None = None
) -> tuple[dict, dict]:
    """(table, curves), one entry per label (default: each run's path, one run each).

    Runs sharing a label pool their seeds: the label's values are every seed of its runs at
    the env steps all of them logged. ``table["metrics"][metric][label]``: the seed mean,
    min, max and per-seed values at the env-step counts every label has;
    ``table["groups"][label]``: its runs; ``curves[metric][label]``: (env steps [I], values
    [S, I]) wherever the label's runs all logged the metric.
    """
    if labels is not None and len(labels) != len(runs):
        raise ConfigError(f"--labels: {len(labels)} label(s) for {len(runs)} run(s); give one per run")
    groups: dict[str, list[str]] = {}
    for run, label in zip(runs, labels if labels is not None else [str(r) for r in runs], strict=True):
        groups.setdefault(label, []).append(str(run))
    rows_of = {}
    for run in runs:
        path = Path(run) / run_dir.METRICS_FILE
        if not path.is_file():
            raise run_dir.RunDirError(run, f"no {run_dir.METRICS_FILE} (not a training run directory?)")
        _, rows_of[str(run)] = run_dir.read_metrics(path)
    curves = {m: {label: _pooled([_curve(rows_of[r], m) for r in members]) for label, members in groups.items()}
              for m in metrics}  # fmt: skip
    table: dict = {"runs": [str(r) for r in runs], "groups": groups, "metrics": {}}
    for metric, per_label in curves.items():
        common = sorted(set.intersection(*(set(steps.tolist()) for steps, _ in per_label.values())))
        at_common = {}
        for label, (steps, values) in per_label.items():
            index = {s: i for i, s in enumerate(steps.tolist())}
            at_common[label] = [
                {"env_steps": s, "mean": float(np.nanmean(values[:, index[s]])),
                 "min": float(np.nanmin(values[:, index[s]])), "max": float(np.nanmax(values[:, index[s]])),
                 "per_seed": [float(v) for v in values[:, index[s]]]}
                for s in common
            ]  # fmt: skip
        table["metrics"][metric] = at_common
    return table, curves


def _pooled(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """One curve of several runs' (env steps [I], values [S, I]): every seed, at the steps all logged."""
    if len(curves) == 1:
        return curves[0]
    steps = sorted(set.intersection(*(set(s.tolist()) for s, _ in curves)))
    indices = [{v: i for i, v in enumerate(s.tolist())} for s, _ in curves]
    columns = [[index[x] for x in steps] for index in indices]
    values = np.concatenate([v[:, c] for (_, v), c in zip(curves, columns, strict=True)], axis=0)
    return np.asarray(steps, dtype=float), values


def plot_comparison(curves: dict, out: str | Path, *, legend: Mapping[str, str] | None = None, title: str = "") -> Path:
    """One panel per metric of ``curves`` (:func:`compare_runs`), one line per label (seed mean)
    with its min-max band; ``legend`` maps a label to its legend text (default: the label)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    metrics = list(curves)
    legend = dict(legend or {})
    cols = min(2, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.6 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for label, (steps, values) in curves[metric].items():
            if not steps.size:
                continue
            text = legend.get(label, label)
            line = ax.plot(steps, np.nanmean(values, axis=0), lw=1.6, marker="o", ms=3, label=text)[0]
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
