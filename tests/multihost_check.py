"""One process of the multi-host check run by ``tests/test_multihost.py`` (toy env, CPU).

  python tests/multihost_check.py OUT_DIR --devices 2 --coordinator localhost:PORT \\
      --num-processes 2 --process-id I          # one of 2 processes, 2 CPU devices each
  python tests/multihost_check.py OUT_DIR --devices 4
                                                # the reference: 1 process, 4 CPU devices

Every process joins the run through :func:`physhmr_jax.agents.sharding.initialize_distributed`
(what ``physhmr train expert --coordinator ...`` calls; CPU collectives over gloo) and
trains PPO on :class:`toy_env.ToyEnv` (2 seeds x 8 envs, split 2 per device over the
4 devices of the mesh) with :func:`physhmr_jax.agents.runner.run_training`:

  * ``OUT_DIR/straight``: 2 iterations, a checkpoint and an evaluation after each;
  * ``OUT_DIR/resumed``: 1 iteration, then ``resume=True`` to 2 (a restore of the
    environments split across processes).

Every process shares these run directories, as the hosts of a pod share a filesystem.
Each process writes ``OUT_DIR/process_<I>.npz`` (the parameters of both runs and the
straight run's environment observations, gathered) and ``OUT_DIR/process_<I>.json``
(device counts, the rows its log returned, the runs it opened a metrics log in).
XLA_FLAGS must be set before JAX starts, hence a separate process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

NUM_ITERATIONS = 2
EVAL_METRIC = "eval/param_norm"
ENV_DATA = {"offsets_m": np.linspace(0.0, 1.0, 6, dtype=np.float32)}  # ignored by ToyEnv; placed as a motion lib is


def toy_config():
    """The smoke PPO preset shrunk for the toy env: 2 seeds x 8 envs x 8 steps, 2 x 2 minibatches."""
    from physhmr_jax.agents import ppo

    return ppo.get_config(
        "smoke", num_envs=8, horizon=8, minibatch_size=16, num_epochs=2, policy_hidden=[32], value_hidden=[32],
        num_seeds=2,
    )  # fmt: skip


def flat(prefix: str, tree) -> dict[str, np.ndarray]:
    import jax

    return {prefix + jax.tree_util.keystr(p): np.asarray(x) for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def evaluate(training_state) -> dict[str, np.ndarray]:
    """The expert's in-training evaluation pattern (``expert/train.py``): each seed fetched to
    the host and played by a program on this process's default device (here: the
    parameters' L2 norm), so every process computes the same figures on its own."""
    import jax
    import jax.numpy as jnp

    from physhmr_jax.agents import sharding

    params = sharding.to_host(training_state.params)  # [S, ...], numpy
    norm = jax.jit(lambda p: jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree.leaves(p))))
    leaves, num_seeds = jax.tree.leaves(params), int(training_state.iteration.shape[0])
    norms = [float(norm(jax.device_put([x[seed] for x in leaves]))) for seed in range(num_seeds)]
    return {EVAL_METRIC: np.array(norms)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--devices", type=int, required=True, help="forced CPU devices of this process")
    parser.add_argument("--coordinator", default=None)
    parser.add_argument("--num-processes", type=int, default=None)
    parser.add_argument("--process-id", type=int, default=None)
    args = parser.parse_args(argv)

    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={args.devices}"
    )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    sys.path.insert(0, str(Path(__file__).parent))
    start = time.perf_counter()
    import jax

    from physhmr_jax.agents import sharding

    # As ``physhmr train expert`` does: before anything imports a module that starts JAX.
    sharding.initialize_distributed(args.coordinator, args.num_processes, args.process_id)
    from toy_env import ToyEnv

    from physhmr_jax.agents import ppo, run_dir, runner

    logs_opened = []  # the run directories this process opened a metrics log (CSV, TensorBoard, PNG) in

    class CountedMetricsLog(run_dir.MetricsLog):
        def __init__(self, path, **kwargs):
            logs_opened.append(Path(path).name)
            super().__init__(path, **kwargs)

    runner.MetricsLog = CountedMetricsLog
    trainer = runner.Trainer(ppo.make_algorithm(ToyEnv(), toy_config()), num_seeds=2, mesh=sharding.make_mesh())
    options = dict(seed=0, checkpoint_every=1, progress=True, tensorboard=True, plot_every=1, evaluate=evaluate,
                   evaluate_every=1)  # fmt: skip
    straight, rows = runner.run_training(trainer, ENV_DATA, args.out / "straight", num_iterations=NUM_ITERATIONS,
                                         **options)  # fmt: skip
    runner.run_training(trainer, ENV_DATA, args.out / "resumed", num_iterations=1, **options)
    resumed, _ = runner.run_training(trainer, ENV_DATA, args.out / "resumed", num_iterations=NUM_ITERATIONS,
                                     resume=True, **options)  # fmt: skip
    arrays = {
        **flat("straight", sharding.to_host(straight.training_state.params)),
        **flat("resumed", sharding.to_host(resumed.training_state.params)),
        # Split over the 4 devices of both processes: to_host gathers them.
        "straight_obs": sharding.to_host(straight.env_state.obs),
    }
    process = jax.process_index()
    np.savez(args.out / f"process_{process}.npz", **arrays)
    result = {
        "process": process,
        "processes": jax.process_count(),
        "devices": len(jax.devices()),
        "local_devices": len(jax.local_devices()),
        "env_state_devices": len(straight.env_state.obs.sharding.device_set),
        "rows": [[r["iteration"], r["seed"]] for r in rows],
        "metrics_logs_opened": logs_opened,
        "compiled_steps": trainer._compiled["step"]._cache_size(),
        "wall_s": time.perf_counter() - start,
    }
    (args.out / f"process_{process}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
