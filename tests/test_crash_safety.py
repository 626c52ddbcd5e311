"""Crash safety of the training driver: SIGKILL at random moments and while a checkpoint is
being written; ``--resume`` then continues from the last complete checkpoint, the CSV has
every (iteration, seed) row exactly once, and the finished run equals a straight run bitwise.

The process killed is ``tests/crash_child.py``: the one driver (``runner.run_training``) on
the toy env, 2 seeds vmapped, a checkpoint every 3 iterations.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from physhmr_jax.agents.run_dir import read_metrics

CHILD = Path(__file__).resolve().parent / "crash_child.py"
ITERATIONS = 24


def _child(run_dir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(run_dir), str(ITERATIONS), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def _logged_iterations(run_dir: Path) -> int:
    path = run_dir / "metrics.csv"
    if not path.is_file():
        return 0
    return max((r["iteration"] for r in read_metrics(path)[1]), default=0)


def _rows_without_time(run_dir: Path) -> list[dict]:
    _, rows = read_metrics(run_dir / "metrics.csv")
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]


def test_sigkill_anywhere_then_resume_equals_a_straight_run(tmp_path):
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    rc, err = _finish(_child(straight))
    assert rc == 0, err

    # 1. Killed while checkpoint 6 is being written: orbax's temporary directory remains.
    rc, _ = _finish(_child(crashed, "--kill-in-save", "6"))
    assert rc == -signal.SIGKILL
    partial = [p.name for p in (crashed / "checkpoints").iterdir() if "tmp" in p.name]
    assert partial, "the kill did not land inside the checkpoint write"
    assert _logged_iterations(crashed) == 6  # row 6 was written before its checkpoint

    # 2. Killed from outside at random moments, each time resumed: first while it starts
    #    (compiling), then twice mid-run, a random time after it has logged new rows (writing
    #    rows, checkpoints or stepping). Iterations are slowed to 0.1 s so the run outlasts it.
    rng = np.random.default_rng(0)
    reached, errors = [], []
    for attempt in range(3):
        before = _logged_iterations(crashed)
        proc = _child(crashed, "--resume", "--sleep", "0.1")
        assert proc.stdout.readline().strip() == "started"
        if attempt > 0:
            deadline = time.monotonic() + 120
            while _logged_iterations(crashed) <= before + 1 and time.monotonic() < deadline:
                time.sleep(0.02)
        time.sleep(float(rng.uniform(0.0, 0.5)))
        proc.send_signal(signal.SIGKILL)
        rc, err = _finish(proc)
        errors.append(err)
        reached.append(_logged_iterations(crashed))
        assert not (crashed / "final.npz").exists(), "a kill came after the run had finished"
    print(f"\nlogged iterations after each random kill: {reached}")
    assert max(reached) > 6, reached  # the kills landed after some training progress

    # 3. Resume to the end: equal to the straight run, bitwise.
    rc, err = _finish(_child(crashed, "--resume"))
    assert rc == 0, err
    errors.append(err)
    # The half-written checkpoint was skipped with a warning (by the first run that got as
    # far as restoring) and removed, never loaded. A later random kill can land inside that
    # removal or inside another checkpoint write; the next run then warns again (2 of 4 once).
    warned = ["skipping a half-written checkpoint" in e for e in errors]
    assert sum(warned) >= 1, errors
    assert not [p for p in (crashed / "checkpoints").iterdir() if p.name in partial]
    straight_leaves, crashed_leaves = np.load(straight / "final.npz"), np.load(crashed / "final.npz")
    assert len(straight_leaves.files) == len(crashed_leaves.files) > 0
    for name in straight_leaves.files:
        np.testing.assert_array_equal(crashed_leaves[name], straight_leaves[name], err_msg=name)
    rows = _rows_without_time(crashed)
    keys = [(r["iteration"], r["seed"]) for r in rows]
    assert keys == [(i, s) for i in range(1, ITERATIONS + 1) for s in (0, 1)]  # none missing, none twice
    assert rows == _rows_without_time(straight)


def test_a_row_cut_short_is_dropped_and_a_malformed_row_is_one_line(tmp_path):
    import pytest

    from physhmr_jax.agents.run_dir import RunDirError

    path = tmp_path / "metrics.csv"
    path.write_text("iteration,seed,env_steps,wall_time_s,x\n1,0,16,0.5,1.0\n1,1,16,0.5,2.0\n2,0,3")
    with pytest.warns(UserWarning, match="incomplete last line"):
        _, rows = read_metrics(path)
    assert [(r["iteration"], r["seed"]) for r in rows] == [(1, 0), (1, 1)]
    path.write_text("iteration,seed,env_steps,wall_time_s,x\n1,0,16,0.5,1.0\n1,oops,16,0.5\n")
    with pytest.raises(RunDirError, match=r"metrics.csv: line 3: malformed row") as info:
        read_metrics(path)
    assert "\n" not in str(info.value)


def test_a_resumed_log_keeps_the_straight_run_file(tmp_path):
    """Reopening the log on resume rewrites the rows up to the checkpoint: an evaluation column
    that only some rows logged stays empty there (not "nan"), and later rows append as before."""
    from physhmr_jax.agents.run_dir import MetricsLog

    def log_rows(log, iterations):
        for it in iterations:
            metrics = {"loss": np.array([0.5 * it, 1.5])}
            if it % 2 == 0:
                metrics["eval/success_rate"] = np.array([1.0, 0.5])
            log.write(it, 16.0 * it, 0.1 * it, metrics)

    straight = tmp_path / "straight"
    straight.mkdir()
    log_rows(MetricsLog(straight, tensorboard=False), range(1, 5))
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    log_rows(MetricsLog(resumed, tensorboard=False), range(1, 4))  # iteration 3 is after the checkpoint at 2
    log_rows(MetricsLog(resumed, resume_iteration=2, tensorboard=False), range(3, 5))
    text = (resumed / "metrics.csv").read_text()
    assert text == (straight / "metrics.csv").read_text()
    assert "nan" not in text and text.splitlines()[1].endswith(",")  # iteration 1 logged no evaluation


def test_a_damaged_checkpoint_is_skipped_for_the_one_before(tmp_path):
    """The newest complete checkpoint fails to read (a file lost): resume warns, restores the
    one before, and the finished run equals the straight one."""
    import jax
    import pytest
    from toy_env import ToyEnv

    from physhmr_jax.agents import ppo, run_dir, runner, sharding

    config = ppo.get_config(
        "smoke", num_envs=8, horizon=8, minibatch_size=32, num_epochs=1, policy_hidden=[16], value_hidden=[16]
    )
    trainer = runner.Trainer(ppo.make_algorithm(ToyEnv(), config), num_seeds=1)
    options = dict(checkpoint_every=3, progress=False, tensorboard=False, plot_every=10**9)
    straight, _ = runner.run_training(trainer, None, tmp_path / "straight", num_iterations=6, **options)
    runner.run_training(trainer, None, tmp_path / "damaged", num_iterations=6, **options)
    newest = tmp_path / "damaged" / "checkpoints" / "6"
    lost = [p for p in newest.rglob("*") if p.is_file() and p.stat().st_size > 0]
    for p in lost:
        p.unlink()
    with pytest.warns(UserWarning, match=r"checkpoints/6: cannot read this checkpoint"):
        resumed, rows = runner.run_training(
            trainer, None, tmp_path / "damaged", num_iterations=6, resume=True, **options
        )
    assert sorted({r["iteration"] for r in rows}) == [1, 2, 3, 4, 5, 6]
    # Checkpoint 6 was written again, whole: a second resume restores it with no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again, _ = runner.run_training(trainer, None, tmp_path / "damaged", num_iterations=6, resume=True, **options)
    assert int(sharding.to_host(again.training_state.iteration)[0]) == 6
    # Asking for an iteration that was not kept (eval --iteration) is one line naming the kept ones.
    checkpoints = run_dir.Checkpoints(tmp_path / "straight")
    with pytest.raises(
        run_dir.RunDirError, match=r"no checkpoint of iteration 4; the checkpoints kept are of iterations \[3, 6\]"
    ):
        checkpoints.restore(4, {})
    checkpoints.close()
    for state in (resumed, again):
        for a, b in zip(
            jax.tree.leaves(sharding.to_host(straight.training_state)),
            jax.tree.leaves(sharding.to_host(state.training_state)),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
