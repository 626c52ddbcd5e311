"""The ``physhmr`` command line: one entry point for every stage.

  physhmr humanoid info [--json] [--skeleton CLIP.npz] [--contacts feet|all]
  physhmr humanoid mjcf --out FILE.xml
  physhmr motion import PATH... --out DIR [--json] [--scale-m S]
  physhmr motion procedural --out DIR [--per-type K] [--seed S]
  physhmr video synth --out DIR [--motions DIR] [--cameras K] [--width W --height H] [--seed S]
  physhmr video import --keypoints KP.json --format coco|openpose [--frames VIDEO.mp4] [--fx F | --fov DEG] --out S.npz
  physhmr video show SHARD.npz --out FILE.mp4 [--png FILE.png]
  physhmr video strip SHARD_OR_DIR... --out FILE.png [--frames N]
  physhmr encoder train --data DIR --out DIR [--preset tiny|cpu|gpu] [--steps N] [--batch B]
  physhmr encoder features --encoder DIR --data DIR [--split S]
  physhmr encoder eval --encoder DIR --data DIR [--split test] [--json]
  physhmr bench env --num-envs N [--json]
  physhmr bench motionlib --num-envs N [--json]
  physhmr bench rays --num-envs N [--env-num-envs M] [--json]
  physhmr demo [--motions DIR] [--out DIR]
  physhmr train expert --out RUN [--preset smoke|cpu|gpu|cpu-phc|phc] [--motions DIR] [--seeds K] [--resume]
  physhmr train student --out RUN --teacher POLICY.npz|EXPERT_RUN --data VIDEO_DIR [--stage distill|finetune]
  physhmr eval student --run RUN [--split test] [--json]
  physhmr reconstruct --video SHARD --run STUDENT_RUN --out DIR [--json]
  physhmr eval vision --data DIR [--runs LABEL=RUN ...] [--tracker EXPERT] [--out DIR] [--json]
  physhmr eval expert --run RUN [--motions DIR] [--json] [--video FILE.mp4 --video-clip NAME]
  physhmr export expert --run RUN --out POLICY.npz [--seed-index S]
  physhmr bench train --num-envs N [--preset cpu] [--json]
  physhmr bench student --num-envs N [--teacher PATH] [--stage distill|finetune] [--json]
  physhmr bench compare RUN... --out FIG.png [--metric NAME]... [--labels L...] [--json]

User errors (a bad file, a missing folder, a bad option or ``--set`` value) print one line
naming the file or option, the value and what was expected, and exit with status 2; no
traceback. Argument parsing and
printing live here; each command calls one library function. The commands are grouped by
stage: :mod:`.assets` (humanoid, motion), :mod:`.vision` (video, encoder), :mod:`.runs`
(train, eval, bench, demo).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from physhmr_jax.cli import assets, runs, vision
from physhmr_jax.cli.output import EXIT_USER_ERROR, Parser, print_result


def build_parser() -> argparse.ArgumentParser:
    # Sub-parsers take the parser's class (one-line errors).
    parser = Parser(prog="physhmr", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)
    for group in (assets, vision, runs):
        group.register(sub)
    return parser


@contextlib.contextmanager
def interrupt_on_signals():
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` while a command runs.

    A training run's ``finally`` then checkpoints its last iteration and writes its curves
    whether it was stopped by Ctrl-C, ``kill``, a batch scheduler or ``timeout -s INT``;
    SIGINT is re-armed too, since a shell starts background jobs with it ignored. Outside
    the main thread (where handlers cannot be set) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    from physhmr_jax.agents.run_dir import RunDirError
    from physhmr_jax.config_io import ConfigError
    from physhmr_jax.motion.clip import MotionFileError
    from physhmr_jax.vision.shards import VideoFileError

    args = build_parser().parse_args(argv)
    try:
        with interrupt_on_signals():
            return args.fn(args)
    except (MotionFileError, VideoFileError, RunDirError, ConfigError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


__all__ = ["EXIT_USER_ERROR", "build_parser", "interrupt_on_signals", "main", "print_result"]
