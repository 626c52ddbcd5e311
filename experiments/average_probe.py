"""Does averaging an expert's recent weights track more clips than any one checkpoint?

The recipe's PPO moves the policy far per iteration (clip fraction 0.7, approximate KL per
minibatch 0.5-50: ``docs/expert.md``), and the in-training evaluation flips between
neighbouring checkpoints. This plays every clip from its first frame (``eval expert``'s
program) with each kept checkpoint of a run and with the mean of their policy weights (the
latest checkpoint's observation statistics), per seed: a cheap test of whether a
Polyak-averaged policy (an exponential moving average kept in training) is worth building.

    .venv/bin/python experiments/average_probe.py runs/expert/procedural_3substeps [--iterations 470,480,489]

Three checkpoints of the 16 procedural clips, 2 seeds: about 2 min on the 2-core dev CPU.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

from physhmr_jax.agents import run_dir
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert import evaluate as expert_evaluate
from physhmr_jax.expert.build import build_expert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="an expert run directory")
    parser.add_argument("--iterations", default=None, help="comma-separated checkpoints (default: every kept one)")
    args = parser.parse_args()
    expert = build_expert(expert_config.load_config(args.run))
    if args.iterations:
        iterations = [int(i) for i in args.iterations.split(",")]
    else:
        checkpoints = run_dir.Checkpoints(args.run)
        iterations = checkpoints.iterations()
        checkpoints.close()
    states = {i: expert_evaluate.restore_training_state(args.run, expert, iteration=i) for i in iterations}
    play = expert_evaluate.make_play_clips(expert, max(expert_evaluate.steps_per_clip(expert)))

    def score(state) -> str:
        extras = jax.tree.map(np.asarray, play(state, expert.motion_lib).extras)
        rows = expert_evaluate.clip_results(
            expert, extras[expert_evaluate.SIM_BODY_POS], extras[expert_evaluate.REF_BODY_POS]
        )
        summary = expert_evaluate.summarize_clips(rows)
        held = sum(r["success"] for r in rows)
        return f"{held:2d} / {len(rows)} clips, G-MPJPE {summary['g_mpjpe_mm']:6.1f} mm"

    for seed in range(int(states[iterations[0]].iteration.shape[0])):
        one = {i: expert_evaluate.seed_state(states[i], seed) for i in iterations}
        for i in iterations:
            print(f"seed {seed} iteration {i}: {score(one[i])}", flush=True)
        mean = jax.tree.map(lambda *xs: sum(xs) / len(xs), *[one[i].params for i in iterations])
        print(f"seed {seed} mean of {iterations}: {score(one[iterations[-1]].replace(params=mean))}", flush=True)


if __name__ == "__main__":
    main()
