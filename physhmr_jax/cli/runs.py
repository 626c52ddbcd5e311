"""``physhmr train|eval|bench|demo ...``: training runs, their evaluation, benchmarks, the demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from physhmr_jax.cli.output import nonnegative_int, positive_float, positive_int, print_result


def cmd_bench_env(args) -> int:
    from physhmr_jax import config_io
    from physhmr_jax.bench.env import default_config, run_env_bench

    # Only the options given on the command line override mjcf.default_config()'s values.
    given = {
        "contacts": args.contacts,
        "solver_iterations": args.iterations,
        "ls_iterations": args.ls_iterations,
        "timestep_s": args.timestep,
        "joint_limit_constraints": args.joint_limits or None,
        "impl": args.impl,
    }
    config = default_config()
    config.num_envs, config.control_steps = args.num_envs, args.control_steps
    config.humanoid.update({k: v for k, v in given.items() if v is not None})
    config_io.set_values(config, args.set or [])
    result = run_env_bench(config)
    print_result(result, args.json)
    return 0


def cmd_bench_motionlib(args) -> int:
    from physhmr_jax.bench.motionlib import run_motionlib_bench

    result = run_motionlib_bench(args.num_envs)
    print_result(result, args.json)
    return 0


def cmd_bench_rays(args) -> int:
    from physhmr_jax.bench.rays import run_rays_bench

    result = run_rays_bench(args.num_envs, env_num_envs=args.env_num_envs)
    print_result(result, args.json)
    return 0


def cmd_demo(args) -> int:
    from physhmr_jax.demo import run_demo, run_method_demo

    if args.playback:
        run_demo(motions=args.motions, out_dir=Path(args.out), clip_name=args.clip, seconds=args.seconds)
        return 0
    run_method_demo(args.out, student=args.student, encoder=args.encoder, expert=args.expert)
    return 0


def _parse_override(text: str) -> tuple[str, object]:
    """``section.name=value`` -> (dotted name, value); the value is read as JSON when it parses."""
    from physhmr_jax.config_io import parse_value

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected SECTION.NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    return name, parse_value(raw)


def cmd_train_expert(args) -> int:
    from physhmr_jax.agents import sharding

    # First: importing the trainer's modules starts JAX's backend, after which a process
    # can no longer join a multi-process run.
    sharding.initialize_distributed(args.coordinator, args.num_processes, args.process_id)
    from physhmr_jax.expert import config as expert_config
    from physhmr_jax.expert.train import train_expert

    config = expert_config.default_config(args.preset)
    if args.motions is not None:
        config.motions.path = args.motions
    config.motions.skeleton = args.skeleton
    return _train(train_expert, _apply_run_arguments(config, args), args)


def _apply_run_arguments(config, args):
    """The shared training options (:func:`_add_run_arguments`), then every ``--set``, onto
    ``config``; the PPO batch split is validated before anything is built."""
    from physhmr_jax import config_io
    from physhmr_jax.expert import config as expert_config

    for flag, name in {
        "iterations": "run.iterations", "checkpoint_every": "run.checkpoint_every", "seed": "run.seed",
        "seeds": "ppo.num_seeds", "num_envs": "ppo.num_envs",
    }.items():  # fmt: skip
        if getattr(args, flag) is not None:
            config_io.set_value(config, name, getattr(args, flag))
    config_io.set_values(config, args.set or [])
    expert_config.ppo_config(config)
    return config


def _train(train_fn, config, args) -> int:
    """Run ``train_fn`` (``train_expert`` / ``train_student``); print its JSON summary, or on a
    signal the checkpointed iteration (exit status 130). In a multi-process run only
    process 0 prints."""
    from physhmr_jax.agents import sharding

    main = sharding.is_main_process()
    try:
        summary = train_fn(
            config, args.out, resume=args.resume, resume_iterations=args.iterations, progress=not args.no_progress,
            log=lambda message: print(message, file=sys.stderr) if main else None,
        )  # fmt: skip
    except KeyboardInterrupt:
        return _interrupted(args.out)
    if main:
        print(json.dumps(summary, indent=2))
    return 0


def _interrupted(out) -> int:
    """Stopped by a signal: the run checkpointed its last iteration; a JSON line says which."""
    from physhmr_jax.agents.run_dir import Checkpoints

    checkpoints = Checkpoints(out)
    try:
        iteration = checkpoints.latest_iteration()
    finally:
        checkpoints.close()
    print(f"interrupted: the last iteration is checkpointed in {out}; continue with --resume", file=sys.stderr)
    print(json.dumps({"run_dir": str(out), "interrupted": True, "checkpoint_iteration": iteration}, indent=2))
    return 130


def cmd_train_student(args) -> int:
    from physhmr_jax.agents import sharding

    sharding.initialize_distributed(args.coordinator, args.num_processes, args.process_id)  # first (see above)
    from physhmr_jax import config_io
    from physhmr_jax.student import config as student_config
    from physhmr_jax.student.train import train_student

    config = student_config.default_config(args.preset, args.stage)
    if not args.resume and (args.teacher is None or args.data is None):
        raise config_io.ConfigError("train student needs --teacher and --data (or --resume)")
    config.teacher.path = args.teacher or ""
    config.data.path = args.data or ""
    config.init.path = args.init or ""
    return _train(train_student, _apply_run_arguments(config, args), args)


def cmd_eval_expert(args) -> int:
    from physhmr_jax.expert.evaluate import evaluate_expert

    result = evaluate_expert(
        args.run, motions=args.motions, seed_index=args.seed_index, iteration=args.iteration,
        video_clip=args.video_clip, video_path=args.video,
    )  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for row in result["per_clip"]:
            training = ""
            if "training_failure_rate" in row:  # failure-weighted clip sampling
                training = (
                    f"  training: {row['training_failure_rate']:.3f} failures/step, weight {row['training_clip_weight']:.3f}, "
                    f"steps {row['training_step_share']:.3f}"
                )
            if "training_segment_weights" in row:  # ... counted per segment of the clip
                training += ", segments " + " ".join(f"{w:.2f}" for w in row["training_segment_weights"])
            print(f"  {row['clip']:<24} {'ok  ' if row['success'] else 'FAIL'} {row['frames_tracked']:5d}/{row['frames']:<5d} "
                  f"G-MPJPE {row['g_mpjpe_mm']:7.1f}  MPJPE {row['mpjpe_mm']:6.1f}  PA {row['pa_mpjpe_mm']:6.1f} mm{training}")  # fmt: skip
        mm = lambda key: "n/a" if result[key] is None else f"{result[key]:.1f}"  # noqa: E731
        print(
            f"success {result['success_rate']:.1%} of {result['clips']} clips; G-MPJPE {mm('g_mpjpe_mm')}, "
            f"MPJPE {mm('mpjpe_mm')}, PA-MPJPE {mm('pa_mpjpe_mm')} mm, accel {mm('accel_error_mm')} mm/frame^2"
        )
        if "video" in result:
            print(f"video: {result['video']}")
    return 0


def cmd_eval_student(args) -> int:
    from physhmr_jax.student.evaluate import evaluate_student

    result = evaluate_student(args.run, split=args.split, seed_index=args.seed_index, iteration=args.iteration)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for row in result["per_video"]:
            print(f"  {row['clip']:<24} {'ok  ' if row['success'] else 'FAIL'} {row['frames_tracked']:5d}/{row['frames']:<5d} "
                  f"G-MPJPE {row['g_mpjpe_mm']:7.1f}  MPJPE {row['mpjpe_mm']:6.1f}  PA {row['pa_mpjpe_mm']:6.1f} mm")  # fmt: skip
        print(f"success {result['success_rate']:.1%} of {result['clips']} videos ({args.split})")
    return 0


def cmd_eval_vision(args) -> int:
    from physhmr_jax.eval.results import evaluate_vision

    result = evaluate_vision(
        args.data, split=args.split, runs=args.runs or (), kinematic=not args.no_kinematic, tracker=args.tracker,
        out=args.out, seed_index=args.seed_index, motions=args.motions,
    )  # fmt: skip
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(result["markdown"])
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k not in ("markdown", "sequences")}, indent=2))
    else:
        print(result["markdown"], end="")
        if args.out:
            print(f"written to {args.out}: results.json, results.md, per_frame_errors.png")
    return 0


def cmd_reconstruct(args) -> int:
    from physhmr_jax import pretrained
    from physhmr_jax.student.reconstruct import reconstruct

    run = pretrained.or_shipped(args.run, "student")
    result = reconstruct(
        args.video, run, args.out, seed_index=args.seed_index, iteration=args.iteration, render=not args.no_video
    )
    print_result(result, args.json)
    return 0


def cmd_export_expert(args) -> int:
    from physhmr_jax.expert.export import export_policy

    print_result(export_policy(args.run, args.out, seed_index=args.seed_index, iteration=args.iteration), args.json)
    return 0


def cmd_export_student(args) -> int:
    from physhmr_jax.student.export import export_student

    print_result(export_student(args.run, args.out, seed_index=args.seed_index, iteration=args.iteration), args.json)
    return 0


def cmd_export_encoder(args) -> int:
    from physhmr_jax.vision.encoder_train import export_encoder

    print_result(export_encoder(args.run, args.out), args.json)
    return 0


def cmd_bench_train(args) -> int:
    from physhmr_jax.bench.train import run_train_bench

    result = run_train_bench(
        num_envs=args.num_envs, preset=args.preset, iterations=args.iterations, settings=args.set or ()
    )
    print_result(result, args.json)
    return 0


def cmd_bench_student(args) -> int:
    from physhmr_jax.bench.student import run_student_bench

    result = run_student_bench(
        num_envs=args.num_envs, preset=args.preset, iterations=args.iterations, teacher=args.teacher, stage=args.stage
    )
    print_result(result, args.json)
    return 0


def cmd_bench_compare(args) -> int:
    from physhmr_jax.bench.compare import DEFAULT_METRICS, compare_runs, plot_comparison

    table, curves = compare_runs(args.runs, args.metric or DEFAULT_METRICS, labels=args.labels)
    # Without --labels each run is its own line, named by its folder.
    legend = None if args.labels else {str(run): Path(run).name for run in args.runs}
    figure = plot_comparison(curves, args.out, legend=legend, title=args.title or "")
    if args.json:
        print(json.dumps({**table, "figure": str(figure)}, indent=2))
        return 0
    for metric, per_label in table["metrics"].items():
        print(f"{metric} at equal env steps per seed (seed mean [min, max]):")
        for label, points in per_label.items():
            cells = "  ".join(
                f"{p['env_steps']:,.0f}: {p['mean']:.3g} [{p['min']:.3g}, {p['max']:.3g}]" for p in points
            )
            print(f"  {(legend or {}).get(label, label):<28} {cells or '(no common env steps)'}")
    print(f"figure: {figure}")
    return 0


def _add_run_arguments(p: argparse.ArgumentParser, *, set_example: str) -> None:
    """The options every training command shares (:func:`_apply_run_arguments` reads them)."""
    p.add_argument("--iterations", type=positive_int, default=None, help="total iterations (default: the preset's)")
    p.add_argument("--seeds", type=positive_int, default=None, help="independent seeds trained side by side (vmap)")
    p.add_argument("--num-envs", type=positive_int, default=None, help="environments per seed (default: the preset's)")
    p.add_argument("--checkpoint-every", type=positive_int, default=None)
    p.add_argument("--seed", type=nonnegative_int, default=None)
    p.add_argument("--set", action="append", type=_parse_override, metavar="SECTION.NAME=VALUE",
                   help=f"override any config entry, e.g. {set_example} (repeatable)")  # fmt: skip
    p.add_argument("--resume", action="store_true", help="continue from the run directory's latest checkpoint")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--coordinator", default=None, help="multi-host: coordinator HOST:PORT")
    p.add_argument("--num-processes", type=positive_int, default=None, help="multi-host: number of processes")
    p.add_argument("--process-id", type=nonnegative_int, default=None, help="multi-host: this process's index")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command groups to the top-level parser's subparsers."""
    from physhmr_jax.expert.presets import PRESETS

    expert_presets = sorted(PRESETS)
    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="cmd", required=True)
    p = bench.add_parser("env", help="MJX env throughput vs MuJoCo C")
    p.add_argument("--num-envs", type=positive_int, default=512)
    p.add_argument("--control-steps", type=positive_int, default=30)
    p.add_argument("--contacts", choices=("feet", "all"), default=None, help="default: mjcf.default_config()'s")
    p.add_argument(
        "--iterations", type=positive_int, default=None, help="Newton iterations (default: mjcf.default_config()'s)"
    )
    p.add_argument("--ls-iterations", type=positive_int, default=None)
    p.add_argument("--timestep", type=positive_float, default=None, help="physics step in seconds")
    p.add_argument("--joint-limits", action="store_true", help="hard joint-limit constraints")
    p.add_argument(
        "--impl", choices=("jax", "warp"), default=None, help="MJX implementation (warp: NVIDIA GPUs; default jax)"
    )
    p.add_argument("--set", action="append", type=_parse_override, metavar="SECTION.NAME=VALUE",
                   help="override any bench config entry, e.g. humanoid.timestep_s=0.0055555556 "
                        "humanoid.contact_solref=null (the settings before 2026-12-02; repeatable)")  # fmt: skip
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_env)

    p = bench.add_parser("motionlib", help="MotionLib.state_at cost vs one MJX control step")
    p.add_argument("--num-envs", type=positive_int, default=4096)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_motionlib)

    p = bench.add_parser("rays", help="pixel-as-ray input cost vs one MJX control step")
    p.add_argument("--num-envs", type=positive_int, default=4096)
    p.add_argument(
        "--env-num-envs", type=positive_int, default=256, help="envs for the MJX step, scaled linearly to --num-envs"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_rays)

    p = sub.add_parser("demo", help="PhysHMR from the shipped checkpoints: videos -> student -> table, video")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--student", default=None, help="a student run or file (default: the shipped one)")
    p.add_argument("--encoder", default=None, help="an encoder run or file (default: the shipped one)")
    p.add_argument("--expert", default=None, help="the two-stage baseline's tracker (default: the shipped expert)")
    p.add_argument("--playback", action="store_true", help="instead: one clip played open-loop by PD, no policy")
    p.add_argument("--motions", default=None, help="--playback: folder of clips (.npz); default: procedural")
    p.add_argument("--clip", default=None, help="--playback: clip name to play (default: the first walk)")
    p.add_argument("--seconds", type=positive_float, default=3.0, help="--playback: seconds to play")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("reconstruct", help="one video -> the student in simulation -> clip .npz, BVH and mp4")
    p.add_argument("--video", required=True, help="a video shard (.npz) with encoder features")
    p.add_argument("--run", default=None, help="a train student run directory or file (default: the shipped one)")
    p.add_argument("--out", required=True, help="folder for the outputs")
    p.add_argument("--seed-index", type=nonnegative_int, default=0)
    p.add_argument("--iteration", type=nonnegative_int, default=None, help="checkpoint (default: the latest)")
    p.add_argument("--no-video", action="store_true", help="skip the mp4 (no rendering)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_reconstruct)

    train = sub.add_parser("train", help="training runs").add_subparsers(dest="cmd", required=True)
    p = train.add_parser("expert", help="PPO expert (privileged reference) on MJX; writes a run directory")
    p.add_argument(
        "--out", required=True, help="run directory (config.json, metrics.csv, curves.png, tb/, checkpoints/)"
    )
    p.add_argument("--preset", choices=expert_presets, default="cpu")
    p.add_argument("--motions", default=None, help="clip .npz folder (physhmr motion import) or 'procedural' (default)")
    p.add_argument("--skeleton", choices=("mean", "first"), default="mean", help="the body every clip is played on")
    _add_run_arguments(p, set_example="ppo.learning_rate=1e-4")
    p.set_defaults(fn=cmd_train_expert)

    p = train.add_parser("student", help="the vision policy distilled from an expert (DAgger) or fine-tuned")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--teacher", default=None, help="an exported expert policy (.npz) or an expert run directory")
    p.add_argument("--data", default=None, help="video benchmark folder (train/ and test/ shards with features)")
    p.add_argument("--stage", choices=("distill", "finetune"), default="distill")
    p.add_argument("--init", default=None, help="start from this student run's weights (e.g. fine-tune the distilled)")
    p.add_argument("--preset", choices=("smoke", "cpu", "gpu"), default="cpu")
    _add_run_arguments(p, set_example="ppo.kin_weight=0.1")
    p.set_defaults(fn=cmd_train_student)

    evaluate = sub.add_parser("eval", help="evaluation").add_subparsers(dest="cmd", required=True)
    p = evaluate.add_parser("expert", help="play every clip from its first frame; success rate and errors")
    p.add_argument("--run", required=True, help="a train expert run directory")
    p.add_argument("--motions", default=None, help="clips to evaluate (default: the run's own)")
    p.add_argument("--seed-index", type=nonnegative_int, default=0, help="which of the run's seeds")
    p.add_argument("--iteration", type=nonnegative_int, default=None, help="checkpoint (default: the latest)")
    p.add_argument("--video", default=None, help="write simulation | reference video of one clip here (.mp4)")
    p.add_argument("--video-clip", default=None, help="clip for the video (default: the first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_eval_expert)

    export = sub.add_parser("export", help="portable files of trained networks").add_subparsers(
        dest="cmd", required=True
    )
    p = evaluate.add_parser("student", help="play every video of a split from its first frame; PHC's metrics")
    p.add_argument("--run", required=True, help="a train student run directory")
    p.add_argument("--split", default="test")
    p.add_argument("--seed-index", type=nonnegative_int, default=0)
    p.add_argument("--iteration", type=nonnegative_int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_eval_student)

    for kind, text, fn in (
        ("expert", "one seed's policy + normaliser + config as one .npz", cmd_export_expert),
        ("student", "one seed's student policy + normaliser + its and its teacher's config", cmd_export_student),
    ):
        p = export.add_parser(kind, help=text)
        p.add_argument("--run", required=True, help=f"a train {kind} run directory")
        p.add_argument("--out", required=True, help=f"the {kind} file (.npz)")
        p.add_argument("--seed-index", type=nonnegative_int, default=0)
        p.add_argument("--iteration", type=nonnegative_int, default=None, help="checkpoint (default: the latest)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(fn=fn)

    p = export.add_parser("encoder", help="an encoder run's weights + config as one .npz")
    p.add_argument("--run", required=True, help="an encoder run directory (physhmr encoder train)")
    p.add_argument("--out", required=True, help="the encoder file (.npz)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_export_encoder)

    p = evaluate.add_parser(
        "vision", help="the results table: kinematic and two-stage baselines and students on the same videos"
    )
    p.add_argument("--data", required=True, help="a video set (train/ and test/ shards with joints3d)")
    p.add_argument("--split", default="test")
    p.add_argument("--runs", nargs="+", default=None, help="students, LABEL=RUN or RUN (a run or file; one row each)")
    p.add_argument("--motions", default=None, help="the clips the videos show (default: each student's teacher's)")
    p.add_argument("--tracker", default=None, help="expert run or exported policy: adds the two-stage baseline")
    p.add_argument("--no-kinematic", action="store_true", help="leave out the kinematic baseline row")
    p.add_argument("--seed-index", type=nonnegative_int, default=0, help="which seed of every run")
    p.add_argument("--out", default=None, help="write results.json, results.md and per_frame_errors.png here")
    p.add_argument("--markdown", default=None, help="also write the table here (.md)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_eval_vision)

    p = bench.add_parser("compare", help="sample efficiency: runs' curves against env steps, at equal env steps")
    p.add_argument("runs", nargs="+", help="training run directories")
    p.add_argument("--out", required=True, help="the figure (.png)")
    p.add_argument("--metric", action="append", help="metric to compare (repeatable; default: eval success, ...)")
    p.add_argument(
        "--labels",
        nargs="+",
        default=None,
        help="one legend label per run (default: folder names); runs with the same label are one line, their seeds pooled",
    )
    p.add_argument("--title", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_compare)

    p = bench.add_parser("train", help="PPO training env steps/s vs env-only stepping at the same N")
    p.add_argument("--num-envs", type=positive_int, default=1024)
    p.add_argument("--preset", choices=expert_presets, default="cpu")
    p.add_argument("--iterations", type=positive_int, default=3, help="timed iterations after the compiling one")
    p.add_argument("--set", action="append", type=_parse_override, metavar="SECTION.NAME=VALUE",
                   help="override any config entry, e.g. --set ppo.symmetric_networks=true (repeatable)")  # fmt: skip
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_train)

    p = bench.add_parser("student", help="the student's training env steps/s vs its expert's at the same N")
    p.add_argument("--num-envs", type=positive_int, default=128)
    p.add_argument("--preset", choices=("smoke", "cpu", "gpu"), default="cpu")
    p.add_argument("--teacher", default=None, help="exported expert .npz or expert run (default: the shipped one)")
    p.add_argument("--stage", choices=("distill", "finetune"), default="distill")
    p.add_argument("--iterations", type=positive_int, default=3, help="timed iterations after the compiling one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench_student)
