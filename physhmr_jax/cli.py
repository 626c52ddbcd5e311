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
  physhmr train expert --out RUN [--preset smoke|cpu|gpu] [--motions DIR] [--seeds K] [--resume]
  physhmr eval expert --run RUN [--motions DIR] [--json] [--video FILE.mp4 --video-clip NAME]
  physhmr bench train --num-envs N [--preset cpu] [--json]

User errors (a bad file, a missing folder) print one line naming the file and the problem
and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from pathlib import Path

EXIT_USER_ERROR = 2


def _print_result(result: dict, as_json: bool) -> None:
    """A command's result dict: JSON, or one aligned ``key: value`` line per entry."""
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        width = max(map(len, result), default=0)
        print("\n".join(f"{k:>{width}}: {v}" for k, v in result.items()))


def _humanoid_config(args) -> object:
    from physhmr_jax.humanoid.mjcf import HumanoidConfig

    return HumanoidConfig(contacts=args.contacts, self_collision=args.self_collision)


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


# ----------------------------------------------------------------------------- video, encoder


def cmd_video_synth(args) -> int:
    from physhmr_jax.vision.synth import main_synth

    manifest = main_synth(args.motions, args.out, cameras=args.cameras, width=args.width, height=args.height,
                          seed=args.seed)  # fmt: skip
    if args.json:
        print(json.dumps({k: v for k, v in manifest.items() if k != "shards"}, indent=2))
    return 0


def cmd_video_import(args) -> int:
    from physhmr_jax.vision.shards import save_sample
    from physhmr_jax.vision.video_import import import_video

    person = int(args.person) if args.person.lstrip("-").isdigit() else args.person
    try:
        sample = import_video(
            args.frames, args.keypoints, args.format, fx=args.fx, fov_deg=args.fov, camera_height_m=args.camera_height,
            pitch_deg=args.pitch, fps=args.fps, width=args.width, height=args.height, person=person,
            first_frame_id=args.first_frame_id,
        )  # fmt: skip
    except ValueError as err:
        if type(err) is not ValueError:  # VideoFileError: main() prints it
            raise
        raise SystemExit(f"error: {err}") from None
    path = save_sample(args.out, sample)
    report = sample.import_report or {}
    if args.json:
        print(json.dumps({"out": str(path), "frames": int(sample.kp2d.shape[0]), "import_report": report}, indent=2))
    else:
        print(f"wrote {path}: {sample.kp2d.shape[0]} frames, {sample.kp2d.shape[1]} keypoints ({args.format})")
        for key, value in report.items():
            print(f"  {key}: {value}")
    return 0


def cmd_video_show(args) -> int:
    from physhmr_jax.vision.show import main_show

    main_show(args.shard, out=args.out, png=args.png, scale=args.scale)
    return 0


def cmd_video_strip(args) -> int:
    from physhmr_jax.vision.show import main_strip

    main_strip(args.shards, out=args.out, num_frames=args.frames, seed=args.seed)
    return 0


def cmd_encoder_train(args) -> int:
    from physhmr_jax.vision.encoder import main_train

    main_train(args.data, args.out, preset=args.preset, steps=args.steps, batch_size=args.batch, seed=args.seed)
    return 0


def cmd_encoder_features(args) -> int:
    from physhmr_jax.vision.encoder import main_features

    main_features(args.encoder, args.data, split=args.split)
    return 0


def cmd_encoder_eval(args) -> int:
    from physhmr_jax.vision.encoder import main_eval

    result = main_eval(args.encoder, args.data, split=args.split)
    _print_result(result, args.json)
    return 0


def cmd_bench_env(args) -> int:
    from physhmr_jax.bench.env import EnvBenchConfig, run_env_bench
    from physhmr_jax.humanoid.mjcf import HumanoidConfig

    # Only the options given on the command line override HumanoidConfig's defaults.
    given = {
        "contacts": args.contacts,
        "solver_iterations": args.iterations,
        "ls_iterations": args.ls_iterations,
        "timestep_s": args.timestep,
        "joint_limit_constraints": args.joint_limits or None,
    }
    humanoid = HumanoidConfig(**{k: v for k, v in given.items() if v is not None})
    config = EnvBenchConfig(num_envs=args.num_envs, control_steps=args.control_steps, humanoid=humanoid)
    result = run_env_bench(config)
    _print_result(result, args.json)
    return 0


def cmd_bench_motionlib(args) -> int:
    from physhmr_jax.bench.motionlib import run_motionlib_bench

    result = run_motionlib_bench(args.num_envs)
    _print_result(result, args.json)
    return 0


def cmd_bench_rays(args) -> int:
    from physhmr_jax.bench.rays import run_rays_bench

    result = run_rays_bench(args.num_envs, env_num_envs=args.env_num_envs)
    _print_result(result, args.json)
    return 0


def cmd_demo(args) -> int:
    from physhmr_jax.demo import run_demo

    run_demo(motions=args.motions, out_dir=Path(args.out), clip_name=args.clip, seconds=args.seconds)
    return 0


# ----------------------------------------------------------------------------- train, eval


def _parse_override(text: str) -> tuple[list[str], object]:
    """``section.name=value`` -> (path, value); the value is read as JSON when it parses."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects section.name=value, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.split("."), value


def cmd_train_expert(args) -> int:
    from physhmr_jax.agents import expert, sharding

    sharding.initialize_distributed(args.coordinator, args.num_processes, args.process_id)
    config = expert.expert_config(args.preset)
    if args.motions is not None:
        config.motions.path = args.motions
    config.motions.skeleton = args.skeleton
    for flag, (section, name) in {
        "iterations": ("run", "iterations"), "checkpoint_every": ("run", "checkpoint_every"), "seed": ("run", "seed"),
        "seeds": ("ppo", "num_seeds"), "num_envs": ("ppo", "num_envs"),
    }.items():  # fmt: skip
        if getattr(args, flag) is not None:
            config[section][name] = getattr(args, flag)
    for path, value in args.set or []:
        node = config
        for part in path[:-1]:
            node = node[part]
        if path[-1] not in node:
            raise SystemExit(f"error: --set {'.'.join(path)}: no such config entry")
        node[path[-1]] = value
    try:
        summary = expert.train_expert(
            config, args.out, resume=args.resume, resume_iterations=args.iterations, progress=not args.no_progress
        )
    except KeyboardInterrupt:
        print(f"interrupted: the last iteration is checkpointed in {args.out}; continue with --resume", file=sys.stderr)
        return 130
    print(json.dumps(summary, indent=2))
    return 0


def cmd_eval_expert(args) -> int:
    from physhmr_jax.agents import expert

    result = expert.evaluate_expert(
        args.run, motions=args.motions, seed_index=args.seed_index, iteration=args.iteration,
        video_clip=args.video_clip, video_path=args.video,
    )  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for row in result["per_clip"]:
            print(f"  {row['clip']:<24} {'ok  ' if row['success'] else 'FAIL'} {row['frames_tracked']:5d}/{row['frames']:<5d} "
                  f"G-MPJPE {row['g_mpjpe_mm']:7.1f}  MPJPE {row['mpjpe_mm']:6.1f}  PA {row['pa_mpjpe_mm']:6.1f} mm")  # fmt: skip
        mm = lambda key: "n/a" if result[key] is None else f"{result[key]:.1f}"  # noqa: E731
        print(
            f"success {result['success_rate']:.1%} of {result['clips']} clips; G-MPJPE {mm('g_mpjpe_mm')}, "
            f"MPJPE {mm('mpjpe_mm')}, PA-MPJPE {mm('pa_mpjpe_mm')} mm, accel {mm('accel_error_mm')} mm/frame^2"
        )
        if "video" in result:
            print(f"video: {result['video']}")
    return 0


def cmd_bench_train(args) -> int:
    from physhmr_jax.bench.train import run_train_bench

    result = run_train_bench(num_envs=args.num_envs, preset=args.preset, iterations=args.iterations)
    _print_result(result, args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="physhmr", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)

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
    p.add_argument("--scale-m", type=float, default=None, help="metres per BVH unit (default: CMU's 0.056444)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_motion_import)
    p = motion.add_parser("procedural", help="write the built-in procedural motion library")
    p.add_argument("--out", required=True)
    p.add_argument("--per-type", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_motion_procedural)

    video = sub.add_parser("video", help="video sample shards: synthetic set, viewer").add_subparsers(
        dest="cmd", required=True
    )
    p = video.add_parser("synth", help="render motion clips from random cameras into video shards")
    p.add_argument("--motions", default=None, help="folder of clips (.npz); default: the procedural library")
    p.add_argument("--out", required=True)
    p.add_argument("--cameras", type=int, default=4, help="cameras per clip")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--height", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the manifest (without the per-shard rows)")
    p.set_defaults(fn=cmd_video_synth)
    p = video.add_parser("import", help="a real video's COCO / OpenPose keypoints (+ frames) -> one shard")
    p.add_argument("--keypoints", required=True, help="COCO JSON file, or OpenPose JSON folder / file")
    p.add_argument("--format", choices=("coco", "openpose"), required=True)
    p.add_argument("--frames", default=None, help="the video file or a folder of images (optional)")
    p.add_argument("--out", required=True, help="the shard (.npz)")
    camera = p.add_mutually_exclusive_group()
    camera.add_argument("--fx", type=float, default=None, help="focal length in pixels")
    camera.add_argument("--fov", type=float, default=None, help="vertical field of view in degrees (default 60)")
    p.add_argument("--camera-height", type=float, default=1.5, help="static camera height above the ground (m)")
    p.add_argument("--pitch", type=float, default=0.0, help="downward tilt of the camera (degrees)")
    p.add_argument("--fps", type=float, default=None, help="default: the video's, else 30")
    p.add_argument("--width", type=int, default=None, help="image width when no frames are given")
    p.add_argument("--height", type=int, default=None, help="image height when no frames are given")
    p.add_argument("--person", default="largest", help="'largest', 'score' or an integer track id")
    p.add_argument("--first-frame-id", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_video_import)
    p = video.add_parser("show", help="draw a shard's keypoints, bones and ray errors into a video")
    p.add_argument("shard", help="a shard .npz")
    p.add_argument("--out", required=True, help="the video (.mp4)")
    p.add_argument("--png", default=None, help="also write a strip of sample frames (.png)")
    p.add_argument("--scale", type=int, default=None, help="integer upscaling (default: to >= 256 px high)")
    p.set_defaults(fn=cmd_video_show)
    p = video.add_parser("strip", help="a PNG strip of sample frames from several shards")
    p.add_argument("shards", nargs="+", help="shard files or folders of shards")
    p.add_argument("--out", required=True, help="the strip (.png)")
    p.add_argument("--frames", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_video_strip)

    encoder = sub.add_parser("encoder", help="the image encoder: pretraining, features, kinematic baseline")
    encoder = encoder.add_subparsers(dest="cmd", required=True)
    p = encoder.add_parser("train", help="pretrain the CNN on synthetic shards (root-relative joints, root 6D)")
    p.add_argument("--data", required=True, help="a synthetic set (video synth --out)")
    p.add_argument("--out", required=True, help="run directory (checkpoint + config.json)")
    p.add_argument("--preset", choices=("tiny", "cpu", "gpu"), default="cpu")
    p.add_argument("--steps", type=int, default=None, help="default: the preset's")
    p.add_argument("--batch", type=int, default=None, help="default: the preset's")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_encoder_train)
    p = encoder.add_parser("features", help="write features [T, 512] into every shard")
    p.add_argument("--encoder", required=True, help="an encoder run directory")
    p.add_argument("--data", required=True, help="a shard, or a folder of shards (searched recursively)")
    p.add_argument("--split", default=None, help="only this split's subfolder (default: all)")
    p.set_defaults(fn=cmd_encoder_features)
    p = encoder.add_parser("eval", help="kinematic baseline: MPJPE / PA-MPJPE of the encoder's head")
    p.add_argument("--encoder", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_encoder_eval)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="cmd", required=True)
    p = bench.add_parser("env", help="MJX env throughput vs MuJoCo C")
    p.add_argument("--num-envs", type=int, default=512)
    p.add_argument("--control-steps", type=int, default=30)
    p.add_argument("--contacts", choices=("feet", "all"), default=None, help="default: HumanoidConfig's")
    p.add_argument("--iterations", type=int, default=None, help="Newton iterations (default: HumanoidConfig's)")
    p.add_argument("--ls-iterations", type=int, default=None)
    p.add_argument("--timestep", type=float, default=None, help="physics step in seconds")
    p.add_argument("--joint-limits", action="store_true", help="hard joint-limit constraints")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_env)

    p = bench.add_parser("motionlib", help="MotionLib.state_at cost vs one MJX control step")
    p.add_argument("--num-envs", type=int, default=4096)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_motionlib)

    p = bench.add_parser("rays", help="pixel-as-ray input cost vs one MJX control step")
    p.add_argument("--num-envs", type=int, default=4096)
    p.add_argument("--env-num-envs", type=int, default=256, help="envs for the MJX step, scaled linearly to --num-envs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_rays)

    p = sub.add_parser("demo", help="procedural motions -> humanoid -> MJX playback -> video")
    p.add_argument("--motions", default=None, help="folder of clips (.npz); default: the procedural library")
    p.add_argument("--clip", default=None, help="clip name to play (default: the first walk)")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--out", default="runs/demo")
    p.set_defaults(fn=cmd_demo)

    train = sub.add_parser("train", help="training runs").add_subparsers(dest="cmd", required=True)
    p = train.add_parser("expert", help="PPO expert (privileged reference) on MJX; writes a run directory")
    p.add_argument(
        "--out", required=True, help="run directory (config.json, metrics.csv, curves.png, tb/, checkpoints/)"
    )
    p.add_argument("--preset", choices=("smoke", "cpu", "gpu"), default="cpu")
    p.add_argument("--motions", default=None, help="clip .npz folder (physhmr motion import) or 'procedural' (default)")
    p.add_argument("--skeleton", choices=("mean", "first"), default="mean", help="the body every clip is played on")
    p.add_argument("--iterations", type=int, default=None, help="total PPO iterations (default: the preset's)")
    p.add_argument("--seeds", type=int, default=None, help="independent seeds trained side by side (vmap)")
    p.add_argument("--num-envs", type=int, default=None, help="environments per seed (default: the preset's)")
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--set", action="append", type=_parse_override, metavar="SECTION.NAME=VALUE",
                   help="override any config entry, e.g. ppo.learning_rate=1e-4 (repeatable)")  # fmt: skip
    p.add_argument("--resume", action="store_true", help="continue from the run directory's latest checkpoint")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--coordinator", default=None, help="multi-host: coordinator HOST:PORT")
    p.add_argument("--num-processes", type=int, default=None, help="multi-host: number of processes")
    p.add_argument("--process-id", type=int, default=None, help="multi-host: this process's index")
    p.set_defaults(fn=cmd_train_expert)

    evaluate = sub.add_parser("eval", help="evaluation").add_subparsers(dest="cmd", required=True)
    p = evaluate.add_parser("expert", help="play every clip from its first frame; success rate and errors")
    p.add_argument("--run", required=True, help="a train expert run directory")
    p.add_argument("--motions", default=None, help="clips to evaluate (default: the run's own)")
    p.add_argument("--seed-index", type=int, default=0, help="which of the run's seeds")
    p.add_argument("--iteration", type=int, default=None, help="checkpoint (default: the latest)")
    p.add_argument("--video", default=None, help="write simulation | reference video of one clip here (.mp4)")
    p.add_argument("--video-clip", default=None, help="clip for the video (default: the first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_eval_expert)

    p = bench.add_parser("train", help="PPO training env steps/s vs env-only stepping at the same N")
    p.add_argument("--num-envs", type=int, default=1024)
    p.add_argument("--preset", choices=("smoke", "cpu", "gpu"), default="cpu")
    p.add_argument("--iterations", type=int, default=3, help="timed iterations after the compiling one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    from physhmr_jax.agents.run_dir import RunDirError
    from physhmr_jax.motion.clip import MotionFileError
    from physhmr_jax.vision.shards import VideoFileError

    args = build_parser().parse_args(argv)
    # MJX prints "Failed to import warp" to stdout when the optional GPU backend is absent;
    # send it to stderr so that --json output stays parseable.
    with contextlib.redirect_stdout(sys.stderr):
        import mujoco.mjx  # noqa: F401
    try:
        return args.fn(args)
    except (MotionFileError, VideoFileError, RunDirError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
