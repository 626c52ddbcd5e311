"""Counts over the in-training evaluations of expert runs: how many clips each (evaluation,
seed) pair held, and how often each clip was held, within a range of env steps per seed.

Reads each run's ``metrics.csv`` (the rows with ``eval/success_rate``; a clip is held at a
pair when its ``eval/clip/NAME/frames_tracked`` reaches its length, the most any pair
tracked of it). The comparison at equal env steps the docs quote, e.g. (session 31, instant):

    .venv/bin/python experiments/eval_summary.py --from 520000 --to 1001472 \\
        runs/expert/teacher_procedural8_v5_symnet_decay_failseg4_term05 \\
        runs/expert/teacher_procedural8_v3_symnet_decay_failseg4
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

SUCCESS = "eval/success_rate"
PREFIX, SUFFIX = "eval/clip/", "/frames_tracked"


def read_evaluations(run: str | Path, lo: float, hi: float) -> list[dict[str, str]]:
    """The evaluation rows of ``run``'s metrics.csv with ``lo <= env_steps <= hi``."""
    path = Path(run) / "metrics.csv"
    if not path.is_file():
        raise SystemExit(f"eval_summary.py: {path}: no such file (is {run} an expert run directory?)")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and SUCCESS not in rows[0]:
        raise SystemExit(f"eval_summary.py: {path}: no {SUCCESS} column (trained without run.eval_every?)")
    out = []
    for row in rows:
        value = row.get(SUCCESS, "")
        if value == "" or math.isnan(float(value)):
            continue
        if lo <= float(row["env_steps"]) <= hi:
            out.append(row)
    return out


def held_clips(frames: dict[str, list[float]], counts: list[int]) -> dict[str, list[bool]]:
    """Per clip and pair, whether the clip was held. The CSV has each clip's frames tracked and
    each pair's number of clips held, not the clips' lengths: a clip's length is taken as the
    most frames any pair tracked, and while some pair would then hold more clips than it did,
    the clip reaching its most at the fewest pairs among those it would add there (the one
    never held: its best is a fall) is taken as never held. Checked against every pair's count.
    """
    length = {c: max(v) for c, v in frames.items()}
    never: set[str] = set()
    while True:
        held = {c: [c not in never and f >= length[c] for f in v] for c, v in frames.items()}
        over = [i for i, n in enumerate(counts) if sum(h[i] for h in held.values()) > n]
        if not over:
            break
        suspects = {c for i in over for c, h in held.items() if h[i]}
        never.add(min(suspects, key=lambda c: (sum(held[c]), length[c])))
    short = [i for i, n in enumerate(counts) if sum(h[i] for h in held.values()) != n]
    if short:
        raise SystemExit(f"eval_summary.py: cannot tell the clips' lengths from the frames tracked (pair {short[0]})")
    return held


def summarize(rows: list[dict[str, str]]) -> dict:
    """Pairs, mean clips held per pair, pairs holding >= k clips, and pairs holding each clip."""
    clips = [k[len(PREFIX) : -len(SUFFIX)] for k in rows[0] if k.startswith(PREFIX) and k.endswith(SUFFIX)]
    frames = {c: [float(r[PREFIX + c + SUFFIX]) for r in rows] for c in clips}
    counts = [round(float(r[SUCCESS]) * len(clips)) for r in rows]
    held = held_clips(frames, counts)
    return {
        "pairs": len(rows),
        "clips": len(clips),
        "mean": sum(counts) / len(rows),
        "at_least": {k: sum(n >= k for n in counts) for k in range(1, len(clips) + 1)},
        "held": {c: sum(h) for c, h in held.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="expert run directories")
    parser.add_argument("--from", dest="lo", type=float, default=0.0, help="first env steps per seed (inclusive)")
    parser.add_argument("--to", dest="hi", type=float, default=math.inf, help="last env steps per seed (inclusive)")
    args = parser.parse_args(argv)
    for run in args.runs:
        rows = read_evaluations(run, args.lo, args.hi)
        if not rows:
            print(f"{run}: no evaluation between {args.lo:.0f} and {args.hi:.0f} env steps per seed")
            continue
        s = summarize(rows)
        top = range(max(1, s["clips"] - 3), s["clips"] + 1)
        print(
            f"{run}: {s['pairs']} (evaluation, seed) pairs; mean clips held {s['mean']:.2f} of {s['clips']}; "
            + ", ".join(f">= {k}: {s['at_least'][k]}" for k in top)
        )
        print("  held: " + ", ".join(f"{c} {n}" for c, n in s["held"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
