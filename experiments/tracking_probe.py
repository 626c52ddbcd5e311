"""Where along each clip an expert checkpoint loses the reference, and how: a fall or a drift.

Plays every clip from its first frame with the mean action, as ``physhmr eval expert`` does
(the same compiled program), and prints per seed and clip the frames tracked (PHC's 0.5 m
rule), then every ``--every``-th frame's mean body distance, horizontal pelvis offset and
pelvis height error (metres). A clip lost after a body distance that stayed small was a fall;
one whose distance climbed over many frames drifted off.

Usage (session 24, dev CPU, about 1 min, most of it the compile):

    .venv/bin/python experiments/tracking_probe.py runs/expert/walks_3substeps_symnet_clip0.4_lrdecay512k \\
        --iteration 300
"""

from __future__ import annotations

import argparse

import numpy as np

from physhmr_jax.eval.metrics import SUCCESS_THRESHOLD_M
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert import evaluate
from physhmr_jax.expert.build import build_expert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="an expert run directory")
    parser.add_argument("--iteration", type=int, default=None, help="checkpoint (default: the latest)")
    parser.add_argument("--every", type=int, default=10, help="print every N-th frame")
    args = parser.parse_args()

    expert = build_expert(expert_config.load_config(args.run))
    states = evaluate.restore_training_state(args.run, expert, iteration=args.iteration)
    steps = evaluate.steps_per_clip(expert)
    play = evaluate.make_play_clips(expert, max(steps))
    for seed in range(int(states.iteration.shape[0])):
        extras = play(evaluate.seed_state(states, seed), expert.motion_lib).extras
        sim, ref = np.asarray(extras[evaluate.SIM_BODY_POS]), np.asarray(extras[evaluate.REF_BODY_POS])
        for i, (clip, n) in enumerate(zip(expert.clips, steps, strict=True)):
            distance = np.linalg.norm(sim[:n, i] - ref[:n, i], axis=-1).mean(-1)
            pelvis_xy = np.linalg.norm(sim[:n, i, 0, :2] - ref[:n, i, 0, :2], axis=-1)
            pelvis_dz = sim[:n, i, 0, 2] - ref[:n, i, 0, 2]
            failed = distance > SUCCESS_THRESHOLD_M
            tracked = int(np.argmax(failed)) if failed.any() else n
            before = distance[: max(tracked, 1)]
            print(f"seed {seed} {clip.name}: {tracked}/{n} frames tracked; body distance before that "
                  f"max {before.max():.3f} m, last 10 frames {before[-10:].max():.3f} m")  # fmt: skip
            for name, values in (("body distance", distance), ("pelvis xy", pelvis_xy), ("pelvis dz", pelvis_dz)):
                print(f"  {name:13s} " + " ".join(f"{v:+.2f}" for v in values[:: args.every]))


if __name__ == "__main__":
    main()
