"""A training process for ``tests/test_crash_safety.py`` to kill: the one driver
(``runner.run_training``) on the toy env, 2 seeds vmapped, a checkpoint every 3 iterations.

  python tests/crash_child.py RUN_DIR ITERATIONS [--resume] [--kill-in-save N] [--sleep S]

``--sleep S`` pauses S seconds after every iteration, so that a kill from outside lands
mid-run; ``--kill-in-save N`` makes the process SIGKILL itself right after orbax has begun
writing checkpoint N (before the write is finished). On completion it writes
``RUN_DIR/final.npz``: every leaf of the final training state.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHECKPOINT_EVERY = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("iterations", type=int)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-in-save", type=int, default=None)
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()

    import jax
    from toy_env import ToyEnv

    from physhmr_jax.agents import ppo, run_dir, runner, sharding

    if args.kill_in_save is not None:
        save = run_dir.Checkpoints.save

        def save_then_die(self, iteration, items, meta):
            started = save(self, iteration, items, meta)
            if iteration == args.kill_in_save:
                os.kill(os.getpid(), signal.SIGKILL)
            return started

        run_dir.Checkpoints.save = save_then_die

    config = ppo.get_config(
        "smoke", num_envs=16, horizon=16, minibatch_size=64, num_epochs=2, policy_hidden=[32], value_hidden=[32],
        num_seeds=2,
    )  # fmt: skip
    trainer = runner.Trainer(ppo.make_algorithm(ToyEnv(), config), num_seeds=2)
    print("started", flush=True)
    loop_state, _ = runner.run_training(
        trainer, None, args.run_dir, num_iterations=args.iterations, checkpoint_every=CHECKPOINT_EVERY,
        resume=args.resume, progress=False, tensorboard=False, plot_every=10**9,
        on_iteration=(lambda it, m: time.sleep(args.sleep)) if args.sleep else None,
    )  # fmt: skip
    leaves = jax.tree.leaves(sharding.to_host(loop_state.training_state))
    tmp = Path(args.run_dir) / "final.tmp.npz"
    np.savez(tmp, *[np.asarray(x) for x in leaves])
    tmp.replace(Path(args.run_dir) / "final.npz")


if __name__ == "__main__":
    main()
