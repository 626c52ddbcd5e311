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
  physhmr eval expert --run RUN [--motions DIR] [--json] [--video FILE.mp4 --video-clip NAME]
  physhmr export expert --run RUN --out POLICY.npz [--seed-index S]
  physhmr bench train --num-envs N [--preset cpu] [--json]
  physhmr bench compare RUN... --out FIG.png [--metric NAME]... [--labels L...] [--json]

User errors (a bad file, a missing folder, a bad ``--set`` value) print one line naming the
file or option and the problem and exit with status 2; no traceback. Argument parsing and
printing live here; each command calls one library function. The commands are grouped by
stage: :mod:`.assets` (humanoid, motion), :mod:`.vision` (video, encoder), :mod:`.runs`
(train, eval, bench, demo).
"""

from __future__ import annotations

import argparse
import sys

from physhmr_jax.cli import assets, runs, vision
from physhmr_jax.cli.output import EXIT_USER_ERROR, print_result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="physhmr", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)
    for group in (assets, vision, runs):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from physhmr_jax.agents.run_dir import RunDirError
    from physhmr_jax.config_io import ConfigError
    from physhmr_jax.motion.clip import MotionFileError
    from physhmr_jax.vision.shards import VideoFileError

    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (MotionFileError, VideoFileError, RunDirError, ConfigError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


__all__ = ["EXIT_USER_ERROR", "build_parser", "main", "print_result"]
