"""``physhmr video ...`` and ``physhmr encoder ...``: video shards and the image encoder."""

from __future__ import annotations

import argparse
import json

from physhmr_jax.cli.output import nonnegative_int, positive_float, positive_int, print_result


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
    from physhmr_jax.vision.encoder_train import M_TO_MM, pretrain_encoder

    r = pretrain_encoder(
        args.data, args.out, preset=args.preset, steps=args.steps, batch_size=args.batch, seed=args.seed
    )
    initial, final = r["initial"], r["final"]
    print(f"[encoder train] {r['shards']} shard(s), {r['frames']} frames, crops {r['crop_px']} px")
    print(
        f"[encoder train] probe loss {initial['loss']:.4f} -> {final['loss']:.4f} "
        f"(joint error {M_TO_MM * initial['joint_error_m']:.0f} -> {M_TO_MM * final['joint_error_m']:.0f} mm) "
        f"in {r['train_s']:.0f} s (+{r['compile_s']:.0f} s compile) -> {r['out']}"
    )
    return 0


def cmd_encoder_features(args) -> int:
    from physhmr_jax import pretrained
    from physhmr_jax.vision.encoder_features import write_split_features

    r = write_split_features(pretrained.or_shipped(args.encoder, "encoder"), args.data, split=args.split)
    print(f"[encoder features] {r['frames']} frame(s) in {r['shards']} shard(s) of {r['data']}")
    return 0


def cmd_encoder_eval(args) -> int:
    from physhmr_jax import pretrained
    from physhmr_jax.vision.encoder_features import evaluate_split

    result = evaluate_split(pretrained.or_shipped(args.encoder, "encoder"), args.data, split=args.split)
    print_result(result, args.json)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command groups to the top-level parser's subparsers."""
    video = sub.add_parser("video", help="video sample shards: synthetic set, viewer").add_subparsers(
        dest="cmd", required=True
    )
    p = video.add_parser("synth", help="render motion clips from random cameras into video shards")
    p.add_argument("--motions", default=None, help="folder of clips (.npz); default: the procedural library")
    p.add_argument("--out", required=True)
    p.add_argument("--cameras", type=positive_int, default=4, help="cameras per clip")
    p.add_argument("--width", type=positive_int, default=128)
    p.add_argument("--height", type=positive_int, default=128)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--json", action="store_true", help="print the manifest (without the per-shard rows)")
    p.set_defaults(fn=cmd_video_synth)
    p = video.add_parser("import", help="a real video's COCO / OpenPose keypoints (+ frames) -> one shard")
    p.add_argument("--keypoints", required=True, help="COCO JSON file, or OpenPose JSON folder / file")
    p.add_argument("--format", choices=("coco", "openpose"), required=True)
    p.add_argument("--frames", default=None, help="the video file or a folder of images (optional)")
    p.add_argument("--out", required=True, help="the shard (.npz)")
    camera = p.add_mutually_exclusive_group()
    camera.add_argument("--fx", type=positive_float, default=None, help="focal length in pixels")
    camera.add_argument(
        "--fov", type=positive_float, default=None, help="vertical field of view in degrees (default 60)"
    )
    p.add_argument(
        "--camera-height", type=positive_float, default=1.5, help="static camera height above the ground (m)"
    )
    p.add_argument("--pitch", type=float, default=0.0, help="downward tilt of the camera (degrees)")
    p.add_argument("--fps", type=positive_float, default=None, help="default: the video's, else 30")
    p.add_argument("--width", type=positive_int, default=None, help="image width when no frames are given")
    p.add_argument("--height", type=positive_int, default=None, help="image height when no frames are given")
    p.add_argument("--person", default="largest", help="'largest', 'score' or an integer track id")
    p.add_argument("--first-frame-id", type=nonnegative_int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_video_import)
    p = video.add_parser("show", help="draw a shard's keypoints, bones and ray errors into a video")
    p.add_argument("shard", help="a shard .npz")
    p.add_argument("--out", required=True, help="the video (.mp4)")
    p.add_argument("--png", default=None, help="also write a strip of sample frames (.png)")
    p.add_argument("--scale", type=positive_int, default=None, help="integer upscaling (default: to >= 256 px high)")
    p.set_defaults(fn=cmd_video_show)
    p = video.add_parser("strip", help="a PNG strip of sample frames from several shards")
    p.add_argument("shards", nargs="+", help="shard files or folders of shards")
    p.add_argument("--out", required=True, help="the strip (.png)")
    p.add_argument("--frames", type=positive_int, default=6)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.set_defaults(fn=cmd_video_strip)

    encoder = sub.add_parser("encoder", help="the image encoder: pretraining, features, kinematic baseline")
    encoder = encoder.add_subparsers(dest="cmd", required=True)
    p = encoder.add_parser("train", help="pretrain the CNN on synthetic shards (root-relative joints, root 6D)")
    p.add_argument("--data", required=True, help="a synthetic set (video synth --out)")
    p.add_argument("--out", required=True, help="run directory (checkpoint + config.json)")
    p.add_argument("--preset", choices=("tiny", "cpu", "gpu"), default="cpu")
    p.add_argument("--steps", type=positive_int, default=None, help="default: the preset's")
    p.add_argument("--batch", type=positive_int, default=None, help="default: the preset's")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.set_defaults(fn=cmd_encoder_train)
    p = encoder.add_parser("features", help="write features [T, 512] into every shard")
    p.add_argument("--encoder", default=None, help="an encoder run directory or file (default: the shipped one)")
    p.add_argument("--data", required=True, help="a shard, or a folder of shards (searched recursively)")
    p.add_argument("--split", default=None, help="only this split's subfolder (default: all)")
    p.set_defaults(fn=cmd_encoder_features)
    p = encoder.add_parser("eval", help="kinematic baseline: MPJPE / PA-MPJPE of the encoder's head")
    p.add_argument("--encoder", default=None, help="an encoder run directory or file (default: the shipped one)")
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_encoder_eval)
