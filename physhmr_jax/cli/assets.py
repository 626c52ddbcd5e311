"""``physhmr humanoid ...`` and ``physhmr motion ...``: the humanoid model and motion files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from physhmr_jax.cli.output import nonnegative_int, positive_float, positive_int


def _humanoid_config(args):
    """The humanoid's ConfigDict (``mjcf.default_config``) with the command line's options."""
    from physhmr_jax.humanoid import mjcf

    return mjcf.default_config(contacts=args.contacts, self_collision=args.self_collision)


def _skeleton(args):
    from physhmr_jax.humanoid.skeleton import mean_skeleton
    from physhmr_jax.motion.clip import load_clip

    return load_clip(args.skeleton).skeleton if args.skeleton else mean_skeleton()


def cmd_humanoid_info(args) -> int:
    from physhmr_jax.humanoid import mjcf

    info = mjcf.humanoid_info(mjcf.build_model(_skeleton(args), _humanoid_config(args)))
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"bodies {info['nbody']}  nq {info['nq']}  nv {info['nv']}  nu {info['nu']}")
        print(
            f"total mass {info['total_mass_kg']} kg  height {info['height_m']} m  contact pairs {info['contact_pairs']}"
        )
        for name, mass in info["masses_kg"].items():
            print(f"  {name:<11} {mass:7.3f} kg")
    return 0


def cmd_humanoid_mjcf(args) -> int:
    from physhmr_jax.humanoid import mjcf

    Path(args.out).write_text(mjcf.build_mjcf(_skeleton(args), _humanoid_config(args)))
    print(f"wrote {args.out}")
    return 0


def _load_source(path: Path, scale_m: float | None):
    from physhmr_jax.motion.clip import MotionFileError

    suffix = path.suffix.lower()
    if suffix == ".bvh":
        from physhmr_jax.motion.bvh import load_bvh

        return load_bvh(path, scale_m=scale_m)
    if suffix == ".npz":
        from physhmr_jax.motion.amass import load_amass

        return load_amass(path)
    raise MotionFileError(path, f"unsupported motion format '{suffix}' (expected .bvh or AMASS .npz)")


def _expand_motion_paths(paths: list[str]) -> list[Path]:
    from physhmr_jax.motion.clip import MotionFileError

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted([*p.glob("*.bvh"), *p.glob("*.npz")])
            if not found:
                raise MotionFileError(p, "folder has no .bvh or .npz files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise MotionFileError(p, "no such file or folder")
    return files


def cmd_motion_import(args) -> int:
    from tqdm import tqdm

    from physhmr_jax.motion import retarget as rt
    from physhmr_jax.motion.clip import Clip

    files = _expand_motion_paths(args.paths)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in tqdm(files, desc="import", unit="clip", disable=args.json or not sys.stderr.isatty()):
        source = _load_source(path, args.scale_m)
        if isinstance(source, Clip):  # AMASS gives hinge angles directly: no IK needed
            clip = rt.ground_clip(source)
            rows.append(dict(name=clip.name, frames=clip.num_frames, duration_s=round(clip.duration_s, 3),
                             joint_error_mean_mm=0.0, joint_error_max_mm=0.0, **rt.foot_quality(clip)))  # fmt: skip
        else:
            clip, report = rt.retarget(source)
            rows.append(dataclasses.asdict(report))
        clip.save(out / f"{clip.name}.npz")
    summary = {
        "clips": rows,
        "mean_joint_error_mm": float(sum(r["joint_error_mean_mm"] for r in rows) / len(rows)),
        "out": str(out),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_import_table(rows))
        print(
            f"\n{len(rows)} clip(s) written to {out}; mean retarget joint error {summary['mean_joint_error_mm']:.1f} mm"
        )
    return 0


def format_import_table(rows: list[dict]) -> str:
    """A Markdown table of import reports (also used for docs/)."""
    head = "| clip | frames | duration (s) | joint err mean (mm) | joint err max (mm) | penetration mean / max (mm) | skating (mm/frame) |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['frames']} | {r['duration_s']:.2f} | {r['joint_error_mean_mm']:.1f} | "
            f"{r['joint_error_max_mm']:.1f} | {r['foot_penetration_mean_mm']:.1f} / {r['foot_penetration_max_mm']:.1f} | "
            f"{r['foot_skating_mm_per_frame']:.1f} |"
        )
    return "\n".join(lines)


def cmd_motion_procedural(args) -> int:
    from physhmr_jax.motion.procedural import write_library

    paths = write_library(args.out, num_clips_per_type=args.per_type, seed=args.seed)
    print(f"wrote {len(paths)} procedural clip(s) to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command groups to the top-level parser's subparsers."""
    humanoid = sub.add_parser("humanoid", help="the SMPL-topology MJX humanoid").add_subparsers(
        dest="cmd", required=True
    )
    for name, fn in (("info", cmd_humanoid_info), ("mjcf", cmd_humanoid_mjcf)):
        p = humanoid.add_parser(name)
        p.add_argument("--skeleton", help="a clip .npz whose skeleton sizes the body (default: the mean body)")
        p.add_argument("--contacts", choices=("feet", "all"), default="feet")
        p.add_argument("--self-collision", action="store_true")
        if name == "info":
            p.add_argument("--json", action="store_true")
        else:
            p.add_argument("--out", required=True)
        p.set_defaults(fn=fn)

    motion = sub.add_parser("motion", help="motion files and the motion library").add_subparsers(
        dest="cmd", required=True
    )
    p = motion.add_parser("import", help="convert BVH / AMASS files into physhmr clips")
    p.add_argument("paths", nargs="+", help="files or folders (.bvh, AMASS .npz)")
    p.add_argument("--out", required=True)
    p.add_argument("--scale-m", type=positive_float, default=None, help="metres per BVH unit (default: CMU's 0.056444)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_motion_import)
    p = motion.add_parser("procedural", help="write the built-in procedural motion library")
    p.add_argument("--out", required=True)
    p.add_argument("--per-type", type=positive_int, default=2)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.set_defaults(fn=cmd_motion_procedural)
