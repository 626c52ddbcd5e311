"""Multi-host training, proven on one machine: 2 processes x 2 CPU devices equal 1 x 4.

Two processes on localhost, each with 2 forced CPU devices, join one run through
``jax.distributed.initialize`` (``sharding.initialize_distributed``, what ``physhmr train
expert --coordinator HOST:PORT --num-processes N --process-id I`` calls; JAX's CPU
collectives over gloo, the default of jax 0.10) and train the toy env's PPO for 2
iterations on a 4-device mesh, the environments split 2 per device. A third process
trains the same on 4 forced CPU devices of its own, and this process on its one device. Each one is ``tests/multihost_check.py``
(XLA_FLAGS must be set before JAX starts); see it for what each writes. A second test runs
``physhmr train expert --coordinator ...`` in 2 processes with the training stubbed out:
the CLI joins the run and only process 0 prints.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from multihost_check import ENV_DATA, EVAL_METRIC, NUM_ITERATIONS, flat, toy_config
from toy_env import ToyEnv

from physhmr_jax.agents import ppo, runner, sharding
from physhmr_jax.agents.run_dir import Checkpoints

SCRIPT = Path(__file__).with_name("multihost_check.py")
REPO = SCRIPT.parents[1]
TIMEOUT_S = 300
TOLERANCE = 1e-4  # as tests/test_ppo.py::test_four_devices_match_one_device


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _start(out: Path, devices: int, *distributed: str) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    command = [sys.executable, str(SCRIPT), str(out), "--devices", str(devices), *distributed]
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(procs: dict[str, subprocess.Popen]) -> dict[str, tuple[str, str | None]]:
    """Wait for every process (all of them killed at the deadline); each must exit 0.
    Returns their (stdout, stderr)."""
    deadline = time.monotonic() + TIMEOUT_S
    outputs = {}
    try:
        for name, proc in procs.items():
            outputs[name] = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for name, proc in procs.items():
        output = "".join(filter(None, outputs[name]))
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{output[-4000:]}"
    return outputs


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_two_processes_match_four_devices(tmp_path):
    start = time.perf_counter()
    multi, single = tmp_path / "two_processes", tmp_path / "one_process"
    address = f"localhost:{_free_port()}"
    procs = {
        f"process {i}": _start(multi, 2, "--coordinator", address, "--num-processes", "2", "--process-id", str(i))
        for i in range(2)
    }
    procs["reference"] = _start(single, 4)
    outputs = _finish(procs)
    wall_s = time.perf_counter() - start

    results = [json.loads((multi / f"process_{i}.json").read_text()) for i in range(2)]
    reference = json.loads((single / "process_0.json").read_text())
    for i, result in enumerate(results):
        assert (result["process"], result["processes"], result["devices"], result["local_devices"]) == (i, 2, 4, 2)
        assert result["env_state_devices"] == 4 and result["compiled_steps"] == 1, result
        # Every process gets the logged rows back; process 0 alone opens metrics logs.
        assert result["rows"] == [[1, 0], [1, 1], [2, 0], [2, 1]], result
    assert results[0]["metrics_logs_opened"] == ["straight", "resumed", "resumed"], results[0]
    assert results[1]["metrics_logs_opened"] == [], results[1]
    assert (reference["processes"], reference["devices"]) == (1, 4)
    assert "train: 100%" in outputs["process 0"][0] and "train:" not in outputs["process 1"][0]  # one progress bar

    arrays = [dict(np.load(multi / f"process_{i}.npz")) for i in range(2)]
    one = dict(np.load(single / "process_0.npz"))
    assert sorted(arrays[0]) == sorted(arrays[1]) == sorted(one)
    for name in one:  # the replicated parameters and the gathered environments: one value everywhere
        np.testing.assert_array_equal(arrays[0][name], arrays[1][name], err_msg=name)
    params = [name for name in one if name.startswith("straight[")]
    for name in params:  # resumed from a checkpoint after 1 iteration == 2 straight iterations
        np.testing.assert_array_equal(arrays[0][name], arrays[0][name.replace("straight", "resumed", 1)])
    assert arrays[0]["straight_obs"].shape == (2, 8, 2)  # [seeds, all 8 envs, xy]
    worst = max(float(np.abs(arrays[0][name] - one[name]).max()) for name in one)
    print(f"\n2 processes x 2 devices vs 1 process x 4 devices: max |diff| {worst:.1e} "
          f"(parameters and observations after 2 iterations); {wall_s:.0f} s for the 3 processes")  # fmt: skip
    assert worst <= TOLERANCE, worst

    for run in ("straight", "resumed"):
        run_dir = multi / run
        rows = _csv_rows(run_dir / "metrics.csv")
        assert [(r["iteration"], r["seed"]) for r in rows] == [("1", "0"), ("1", "1"), ("2", "0"), ("2", "1")]
        reference_rows = _csv_rows(single / run / "metrics.csv")
        assert list(rows[0]) == list(reference_rows[0]) and EVAL_METRIC in rows[0]
        for row, expected in zip(rows, reference_rows, strict=True):  # every logged metric, as the parameters
            for column in set(row) - {"wall_time_s"}:
                np.testing.assert_allclose(float(row[column]), float(expected[column]), rtol=1e-4, atol=1e-5,
                                           err_msg=column)  # fmt: skip
        assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["1", "2"]
        written_by = sorted(p.name for p in (run_dir / "checkpoints" / "2" / "rollout").glob("ocdbt.process_*"))
        assert written_by == ["ocdbt.process_0", "ocdbt.process_1"]  # each process saved its environments
        assert (run_dir / "curves.png").stat().st_size > 10_000
        assert len(list((run_dir / "tb").iterdir())) >= 1
        assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoints", "curves.png", "metrics.csv", "tb"]

    # One process (this one, 1 device) reads the 2 processes' checkpoint back, as
    # ``physhmr eval expert`` or a resume on another machine would.
    trainer = runner.Trainer(ppo.make_algorithm(ToyEnv(), toy_config()), num_seeds=2)
    checkpoints = Checkpoints(multi / "straight")
    try:
        items, meta = checkpoints.restore(2, {"training_state": trainer.abstract_state(ENV_DATA).training_state})
    finally:
        checkpoints.close()
    assert meta["iteration"] == 2
    restored = flat("straight", sharding.to_host(items["training_state"].params))
    for name, value in restored.items():
        np.testing.assert_array_equal(value, arrays[0][name], err_msg=name)

    # ... and the same 2 iterations on this process's one device equal the 4-device run: only
    # the order of floating-point sums differs (gradients and observation statistics are
    # all-reduced over the mesh). The humanoid's version of this check is
    # tests/test_ppo.py::test_four_devices_match_one_device (make test-full).
    one_device, _ = runner.run_training(trainer, ENV_DATA, tmp_path / "one_device", num_iterations=NUM_ITERATIONS,
                                        seed=0, checkpoint_every=NUM_ITERATIONS, progress=False, tensorboard=False)  # fmt: skip
    on_one = flat("straight", sharding.to_host(one_device.training_state.params))
    assert sorted(on_one) == sorted(params)
    worst_one = max(float(np.abs(on_one[name] - one[name]).max()) for name in params)
    print(f"1 device vs 1 process x 4 devices: max |param diff| {worst_one:.1e}")
    assert worst_one <= TOLERANCE, worst_one


# ``physhmr`` with ``train_expert`` replaced by a stub (no MJX): the CLI must join the run
# before anything it imports starts JAX's backend.
_CLI_STUB = """
import sys, types
stub = types.ModuleType("physhmr_jax.expert.train")
def train_expert(config, out, **kwargs):
    import jax
    kwargs["log"](f"stub: process {jax.process_index()} of {jax.process_count()}, {len(jax.devices())} devices")
    return {"preset": config.preset, "processes": jax.process_count(), "devices": len(jax.devices())}
stub.train_expert = train_expert
sys.modules["physhmr_jax.expert.train"] = stub
from physhmr_jax.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_joins_the_run_and_prints_once(tmp_path):
    address = f"localhost:{_free_port()}"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    command = [sys.executable, "-c", _CLI_STUB, "train", "expert", "--preset", "pod", "--out", str(tmp_path),
               "--coordinator", address, "--num-processes", "2"]  # fmt: skip
    pipes = dict(env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = {f"process {i}": subprocess.Popen([*command, "--process-id", str(i)], **pipes) for i in range(2)}
    streams = _finish(procs)
    out0, err0 = streams["process 0"]
    out1, err1 = streams["process 1"]
    assert json.loads(out0) == {"preset": "pod", "processes": 2, "devices": 4}
    assert "stub: process 0 of 2, 4 devices" in err0
    assert out1 == "" and "stub:" not in err1  # process 1 prints neither the log nor the summary
