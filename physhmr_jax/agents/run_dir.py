"""A training run on disk: its config, metrics, curves, TensorBoard logs and checkpoints.

::

  RUN/
    config.json        everything needed to rebuild the run (``load_config``)
    metrics.csv        one row per (iteration, seed): iteration, seed, env_steps, wall_time_s, metrics...
    curves.png         the main curves against env steps, mean and min-max over seeds
    tb/                TensorBoard scalars (seed means), ``tensorboard --logdir RUN/tb``
    checkpoints/<it>/  orbax checkpoints: ``state`` (the whole loop state) and ``meta`` (JSON)

Host-side only (numpy, files). Everything is written so that a crash (even SIGKILL) loses
at most the iterations since the last checkpoint: the CSV is flushed every row, and on
``--resume`` rows after the restored checkpoint (and a row cut short by the crash) are
dropped so the file continues exactly; a checkpoint the crash left half-written (orbax's
``*.orbax-checkpoint-tmp*`` directory) is removed with a warning and never loaded, and a
checkpoint that cannot be read is skipped for the one before it
(``tests/test_crash_safety.py``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from physhmr_jax.agents import metric_names as names

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
CURVES_FILE = "curves.png"
TENSORBOARD_DIR = "tb"
CHECKPOINT_DIR = "checkpoints"
INDEX_COLUMNS = ("iteration", "seed", "env_steps", "wall_time_s")

# The curves worth a panel by default: metric name -> axis label. An application adds its
# env's metrics (``run_training(curve_panels=...)``).
CURVE_PANELS = {
    names.EPISODE_RETURN: "episode return",
    names.EPISODE_LENGTH: "episode length (steps)",
    names.EPISODE_SUCCESS_RATE: "training episodes not failed",
    names.REWARD_MEAN: "reward per step",
    names.APPROX_KL: "approx. KL per minibatch",
}


class RunDirError(ValueError):
    """A run directory that cannot be used: missing files or a config that does not match."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def save_config(run_dir: str | os.PathLike, config: Mapping[str, Any]) -> Path:
    """Write ``config.json`` atomically (tmp file + rename)."""
    path = Path(run_dir) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True, default=_json_default))
    tmp.replace(path)
    return path


def load_config(run_dir: str | os.PathLike) -> dict:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise RunDirError(run_dir, f"no {CONFIG_FILE} (not a run directory?)")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunDirError(path, f"unreadable JSON ({err})") from None
    except RecursionError:
        raise RunDirError(path, "unreadable JSON (nested too deeply)") from None
    if not isinstance(config, dict):
        raise RunDirError(path, f"not a config: the JSON is a {type(config).__name__}, not an object")
    return config


def _json_default(x):
    if isinstance(x, (np.generic,)):
        return x.item()
    if isinstance(x, (tuple, set)):
        return list(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


# --------------------------------------------------------------------------------------
# Metrics: CSV + TensorBoard + PNG.


def metric_rows(
    iteration: int, env_steps: float, wall_time_s: float, metrics: Mapping[str, np.ndarray]
) -> list[dict[str, float]]:
    """One iteration's rows, one per seed: ``metrics`` maps names to [S] per-seed values."""
    num_seeds = len(next(iter(metrics.values())))
    rows = []
    for seed in range(num_seeds):
        row = {"iteration": iteration, "seed": seed, "env_steps": float(env_steps), "wall_time_s": wall_time_s}
        row.update({name: float(np.asarray(v)[seed]) for name, v in metrics.items()})
        rows.append(row)
    return rows


class MetricsLog:
    """Appends per-seed metrics to ``metrics.csv`` and seed means to TensorBoard.

    Args:
      run_dir: the run directory.
      resume_iteration: on resume, the iteration of the restored checkpoint; CSV rows with
        a larger iteration (written after that checkpoint, before a crash) are dropped.
        None starts a fresh file.
      tensorboard: write TensorBoard event files too.
      panels: metric name -> axis label of the panels of ``curves.png`` (default
        :data:`CURVE_PANELS`).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        *,
        resume_iteration: int | None = None,
        tensorboard: bool = True,
        panels: Mapping[str, str] | None = None,
    ):
        self.run_dir = Path(run_dir)
        self.panels = dict(panels if panels is not None else CURVE_PANELS)
        self.path = self.run_dir / METRICS_FILE
        self._columns: list[str] | None = None
        self._rows: list[dict[str, float]] = []
        if resume_iteration is not None and self.path.is_file():
            self._columns, rows = read_metrics(self.path)
            self._rows = [r for r in rows if r["iteration"] <= resume_iteration]
            self._rewrite()
        elif self.path.exists():
            self.path.unlink()
        self._tb = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            self._tb = SummaryWriter(str(self.run_dir / TENSORBOARD_DIR), flush_secs=30)

    @property
    def rows(self) -> list[dict[str, float]]:
        return list(self._rows)

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._columns)
            writer.writeheader()
            # A metric a row did not log reads back as NaN: it is written back empty, as
            # ``write`` leaves it, so a resumed run's file reads as a straight run's. (A metric
            # logged as NaN is emptied too; both read back as NaN.)
            writer.writerows(
                {k: "" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in self._rows
            )
        tmp.replace(self.path)

    def write(self, iteration: int, env_steps: float, wall_time_s: float, metrics: Mapping[str, np.ndarray]) -> None:
        """Record one iteration: ``metrics`` maps names to [S] per-seed values.

        A metric logged only at some iterations (an evaluation every N) adds its column
        when it first appears; other rows leave it empty (NaN when read back).
        """
        new_rows = metric_rows(iteration, env_steps, wall_time_s, metrics)
        if self._columns is None:
            self._columns = list(new_rows[0])
            self._rows = []
            self._rewrite()
        elif any(name not in self._columns for name in new_rows[0]):
            self._columns += [name for name in new_rows[0] if name not in self._columns]
            self._rewrite()
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._columns, extrasaction="ignore")
            writer.writerows(new_rows)
        self._rows.extend(new_rows)
        if self._tb is not None:
            step = int(env_steps)
            for name, v in metrics.items():
                self._tb.add_scalar(name, float(np.mean(v)), step)
            self._tb.add_scalar("time/wall_time_s", wall_time_s, step)

    def plot(self) -> Path | None:
        return plot_curves(self._rows, self.run_dir / CURVES_FILE, panels=self.panels) if self._rows else None

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def read_metrics(path: str | os.PathLike) -> tuple[list[str], list[dict[str, float]]]:
    """``metrics.csv`` -> (columns, rows with float values; iteration and seed as int).

    A last line without its newline (the process died while appending it) is left out
    with a warning; any other malformed row is a :class:`RunDirError` naming the line.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError as e:
        raise RunDirError(path, f"not a metrics CSV (not UTF-8 text: {e.reason})") from None
    if text and not text.endswith("\n"):
        cut = text.rfind("\n") + 1
        warnings.warn(f"{path}: dropping an incomplete last line (the run stopped while writing it)", stacklevel=2)
        text = text[:cut]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = list(reader.fieldnames or [])
    if columns and not {"iteration", "seed"} <= set(columns):
        raise RunDirError(path, "not a metrics CSV: the header has no 'iteration' and 'seed' columns")
    rows = []
    for raw in reader:
        try:
            if None in raw or None in raw.values():
                raise ValueError(f"{len(columns)} fields expected")
            row = {k: float(v) if v != "" else math.nan for k, v in raw.items()}
            row["iteration"], row["seed"] = int(row["iteration"]), int(row["seed"])
        except ValueError as e:
            raise RunDirError(path, f"line {reader.line_num}: malformed row ({e})") from None
        rows.append(row)
    return columns, rows


def seed_curves(rows: Sequence[Mapping[str, float]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(env_steps [I], values [S, I]) of one metric, iterations that every seed logged."""
    seeds = sorted({int(r["seed"]) for r in rows})
    by_iteration: dict[int, dict[int, Mapping[str, float]]] = {}
    for r in rows:
        by_iteration.setdefault(int(r["iteration"]), {})[int(r["seed"])] = r
    iterations = [it for it in sorted(by_iteration) if len(by_iteration[it]) == len(seeds)]
    steps = np.array([by_iteration[it][seeds[0]]["env_steps"] for it in iterations])
    values = np.array([[by_iteration[it][s].get(name, math.nan) for it in iterations] for s in seeds])
    return steps, values


def plot_curves(
    rows: Sequence[Mapping[str, float]],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    panels: Mapping[str, str] | None = None,
) -> Path:
    """A PNG of ``panels`` (default :data:`CURVE_PANELS`) against env steps: seed mean, min-max band.

    A metric logged only at some iterations (an evaluation every N) is drawn at those.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    columns = set().union(*(r.keys() for r in rows)) if rows else set()
    panels = [(name, label) for name, label in (panels or CURVE_PANELS).items() if name in columns]
    num_seeds = len({int(r["seed"]) for r in rows})
    cols = 3
    nrows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.0 * nrows), squeeze=False)
    for ax, (name, label) in zip(axes.flat, panels, strict=False):
        steps, values = seed_curves(rows, name)
        logged = ~np.all(np.isnan(values), axis=0)
        steps, values = steps[logged], values[:, logged]
        mean = np.nanmean(values, axis=0)
        ax.plot(steps, mean, lw=1.5)
        if num_seeds > 1:
            ax.fill_between(steps, np.nanmin(values, axis=0), np.nanmax(values, axis=0), alpha=0.25, lw=0)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("env steps per seed" if num_seeds > 1 else "env steps")
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 300k, 1M: long tick labels overlap
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    spread = f"mean and min-max over {num_seeds} seeds" if num_seeds > 1 else "1 seed"
    fig.suptitle(f"{title + ': ' if title else ''}{spread}", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)


def save_figure(fig, path: str | os.PathLike, *, dpi: int) -> Path:
    """Write a matplotlib figure as PNG (the folder made, the file replaced atomically: a
    reader never sees half a picture) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------
# Checkpoints (orbax).


def _nonempty_leaves(tree: Any) -> dict[str, Any]:
    """``{key path: leaf}`` of the leaves with at least one element.

    Orbax refuses zero-size arrays, and ``mjx.Data`` has some (``act`` without
    actuator activations, ``mocap_*`` without mocap bodies); they carry no information,
    so they are left out and rebuilt from the abstract tree on restore.
    """
    import jax

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {jax.tree_util.keystr(path): leaf for path, leaf in leaves if math.prod(leaf.shape) > 0}


def _fill_empty_leaves(abstract: Any, restored: Mapping[str, Any]) -> Any:
    """The tree of ``abstract`` with restored leaves, zero-size ones recreated empty."""
    import jax
    import jax.numpy as jnp

    def leaf(path, x):
        name = jax.tree_util.keystr(path)
        if name in restored:
            return restored[name]
        return jax.device_put(jnp.zeros(x.shape, x.dtype), getattr(x, "sharding", None))

    return jax.tree_util.tree_map_with_path(leaf, abstract)


# Orbax writes a checkpoint into ``<iteration>.orbax-checkpoint-tmp...`` and renames it
# when complete; a directory still so named was cut short.
_PARTIAL_SUFFIX = ".orbax-checkpoint-tmp"


class Checkpoints:
    """Orbax checkpoints by iteration: named pytree items plus a JSON ``meta`` dict.

    Items are saved separately (e.g. ``training_state`` and ``rollout``), so a reader that
    needs only the policy (``physhmr eval expert``) restores only that item. Restoring
    takes abstract trees (``jax.ShapeDtypeStruct`` with shardings), so the arrays come
    back on the devices and with the layout the jitted step expects: no second
    compilation, and a run can resume on a different device count.
    """

    def __init__(self, run_dir: str | os.PathLike, *, max_to_keep: int = 3):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = (Path(run_dir) / CHECKPOINT_DIR).resolve()
        self._manager = ocp.CheckpointManager(
            self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        )

    def latest_iteration(self) -> int | None:
        return self._manager.latest_step()

    def iterations(self) -> list[int]:
        """The iterations of the complete checkpoints, oldest first."""
        return sorted(self._manager.all_steps())

    def delete(self, iteration: int) -> None:
        self._manager.delete(iteration)

    def discard_partial(self) -> list[Path]:
        """Remove the checkpoints a crash left half-written (warning for each); the writer
        calls this before it resumes (a reader never does: the writer may be mid-save)."""
        partial = sorted(p for p in self.directory.glob("*") if _PARTIAL_SUFFIX in p.name)
        for p in partial:
            warnings.warn(
                f"{p}: skipping a half-written checkpoint (the run stopped while writing it); removing it",
                stacklevel=2,
            )
            shutil.rmtree(p, ignore_errors=True)
        return partial

    def save(self, iteration: int, items: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
        """Start saving (asynchronous after the device-to-host copy); ``wait`` to finish.

        Returns False when this iteration is already saved.
        """
        ocp = self._ocp
        if iteration in self._manager.all_steps():
            return False
        args = {name: ocp.args.StandardSave(_nonempty_leaves(tree)) for name, tree in items.items()}
        self._manager.save(iteration, args=ocp.args.Composite(**args, meta=ocp.args.JsonSave(dict(meta))))
        return True

    def restore(self, iteration: int, abstract_items: Mapping[str, Any]) -> tuple[dict[str, Any], dict]:
        """The named items (only those asked for) and the meta dict of one checkpoint."""
        ocp = self._ocp
        kept = self.iterations()
        if iteration not in kept:
            raise RunDirError(
                self.directory.parent,
                f"no checkpoint of iteration {iteration}; the checkpoints kept are of iterations {kept}",
            )
        args = {name: ocp.args.StandardRestore(_nonempty_leaves(tree)) for name, tree in abstract_items.items()}
        restored = self._manager.restore(iteration, args=ocp.args.Composite(**args, meta=ocp.args.JsonRestore()))
        items = {name: _fill_empty_leaves(tree, restored[name]) for name, tree in abstract_items.items()}
        return items, dict(restored["meta"])

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()


__all__ = [
    "CHECKPOINT_DIR",
    "CONFIG_FILE",
    "CURVES_FILE",
    "CURVE_PANELS",
    "METRICS_FILE",
    "TENSORBOARD_DIR",
    "Checkpoints",
    "MetricsLog",
    "RunDirError",
    "load_config",
    "metric_rows",
    "plot_curves",
    "read_metrics",
    "save_config",
    "save_figure",
    "seed_curves",
]
