"""``make demo``: PhysHMR on a fresh clone, from the shipped checkpoints; and open-loop playback.

:func:`run_method_demo` (``physhmr demo``): held-out procedural motions (a library seed no
shipped network saw) -> synthetic videos from random cameras -> the shipped encoder's
features -> the shipped student in simulation, beside the kinematic baseline (the encoder's
per-frame estimate) and the two-stage baseline (that estimate tracked by the shipped
expert) -> the results table (both protocols), a per-frame error plot, and one video as
the student played it (input frame with the simulated skeleton | MuJoCo render), all in
one run directory (``physhmr reconstruct`` does the same for any one video, real ones too). Each data stage is skipped when its output exists; compiled programs are cached
in the run directory, so a second run is quicker.

:func:`run_demo` (``physhmr demo --playback``): the foundation alone:
procedural motions -> MotionLib -> humanoid (MJCF -> MJX) -> a clip played through MJX
with the reference hinge angles as PD targets, started from the reference state ->
a video and an image strip of simulation (left) next to the kinematic reference (right),
and a JSON summary of how long open-loop PD playback tracks the clip.

Open-loop PD playback is not a controller: without a policy the humanoid drifts and
eventually falls. The expert (PPO) is what keeps it on the reference; this demo shows
that the pieces below it fit together.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")


def run_demo(
    *, motions: str | None, out_dir: Path, clip_name: str | None = None, seconds: float = 3.0, contacts: str = "all"
) -> dict:
    """Play one clip through MJX and write ``playback.mp4``, ``strip.png``, ``summary.json``.

    ``contacts="all"`` lets every body touch the floor, so a fall looks like one (training
    uses the cheaper feet-only default).
    """
    import imageio.v3 as iio
    import jax
    import jax.numpy as jnp

    from physhmr_jax.humanoid import mjcf, simulation
    from physhmr_jax.humanoid.kinematics import forward_kinematics
    from physhmr_jax.humanoid.render import render_qpos
    from physhmr_jax.motion.clip import load_clips
    from physhmr_jax.motion.library import build_motion_lib
    from physhmr_jax.motion.procedural import generate_library

    out_dir.mkdir(parents=True, exist_ok=True)
    clips = load_clips(motions) if motions else generate_library(num_clips_per_type=1, seed=0)
    names = [c.name for c in clips]
    if clip_name is None:
        clip_name = next((n for n in names if n.startswith("walk")), names[0])
    if clip_name not in names:
        raise SystemExit(f"error: clip '{clip_name}' not among {names}")
    clip_id = names.index(clip_name)
    clip = clips[clip_id]
    print(f"[demo] {len(clips)} clip(s): {', '.join(names)}; playing '{clip_name}'")

    lib = build_motion_lib(clips)
    humanoid = simulation.make_humanoid(clip.skeleton, mjcf.default_config(contacts=contacts))
    steps = int(round(min(seconds, clip.duration_s) / humanoid.control_dt_s))
    times = jnp.arange(steps + 1) * humanoid.control_dt_s
    ref = jax.jit(lambda t: lib.state_at(jnp.full_like(t, clip_id, dtype=jnp.int32), t))(times)

    start = jax.tree.map(lambda x: x[:1], ref)
    data = simulation.data_from_state_batch(humanoid.mjx_model, start)
    print(f"[demo] MJX playback: {steps} control steps x {humanoid.substeps} substeps (compiling on first use)")
    qpos = simulation.rollout_pd_batch(humanoid.mjx_model, data, ref.dof[None, 1:], humanoid.substeps)[0]
    sim_qpos = np.concatenate([np.asarray(simulation.qpos_qvel_from_state(start)[0]), np.asarray(qpos)])
    body_pos, _ = forward_kinematics(
        jnp.asarray(sim_qpos[:, :3]), jnp.asarray(sim_qpos[:, 3:7]), jnp.asarray(sim_qpos[:, 7:]),
        jnp.asarray(clip.skeleton.offsets_m, jnp.float32),
    )  # fmt: skip
    body_err = np.asarray(jnp.linalg.norm(body_pos - ref.body_pos, axis=-1).mean(-1))
    ref_qpos = np.asarray(simulation.qpos_qvel_from_state(ref)[0])

    frames_sim = render_qpos(humanoid.mj_model, np.stack(sim_qpos))
    frames_ref = render_qpos(humanoid.mj_model, ref_qpos)
    side_by_side = [np.concatenate([a, b], axis=1) for a, b in zip(frames_sim, frames_ref, strict=True)]
    video = out_dir / "playback.mp4"
    iio.imwrite(video, np.stack(side_by_side), fps=round(1.0 / humanoid.control_dt_s), codec="libx264")
    strip_idx = np.linspace(0, len(side_by_side) - 1, 5).astype(int)
    strip = out_dir / "strip.png"
    iio.imwrite(strip, np.concatenate([side_by_side[i] for i in strip_idx], axis=0))

    tracked = int(np.argmax(body_err > 0.5)) if (body_err > 0.5).any() else len(body_err)
    summary = {
        "clip": clip_name,
        "control_steps": steps,
        "mean_body_error_m_first_second": float(body_err[: int(1.0 / humanoid.control_dt_s) + 1].mean()),
        "steps_until_error_over_0.5m": tracked,
        "nan": bool(np.isnan(sim_qpos).any()),
        "video": str(video),
        "strip": str(strip),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return summary


# A procedural library seed none of the shipped networks was trained on (they saw seed 0).
DEMO_SEED = 7
DEMO_TYPES = ("walk", "sidestep", "jump", "squat", "reach", "wave")


def _stage(number: int, total: int, text: str) -> float:
    print(f"[demo {number}/{total}] {text}", flush=True)
    return time.perf_counter()


def _student_video(method, shard: Path, index: int, path: Path) -> Path:
    """``method``'s (a student's ``MethodSequences``) play of video ``index`` as a side-by-side mp4."""
    from physhmr_jax.humanoid import mjcf, simulation
    from physhmr_jax.humanoid.render import FRAME_SIZE, render_qpos, write_side_by_side
    from physhmr_jax.humanoid.skeleton import mean_skeleton
    from physhmr_jax.student.reconstruct import overlay_frames
    from physhmr_jax.vision.shards import load_sample

    sample = load_sample(shard)
    qpos, body_pos = method.qpos[index].astype(np.float64), method.pred[index].astype(np.float64)
    humanoid = simulation.make_humanoid(mean_skeleton(), mjcf.default_config())  # the procedural clips' body
    right = render_qpos(humanoid.mj_model, qpos)
    left = overlay_frames(sample, body_pos, np.arange(len(qpos)), FRAME_SIZE[0])
    write_side_by_side(path, left, right, fps=sample.fps)
    return path


def run_method_demo(
    out_dir: str | os.PathLike,
    *,
    student: str | None = None,
    encoder: str | None = None,
    expert: str | None = None,
    motion_types: tuple[str, ...] = DEMO_TYPES,
    seed: int = DEMO_SEED,
    video_clip: str | None = None,
    progress: bool = True,
) -> dict:
    """The PhysHMR demo (module docstring) into ``out_dir``; returns the summary it writes.

    ``student``, ``encoder``, ``expert``: trained networks (files or run directories),
    default the shipped ones (:mod:`physhmr_jax.pretrained`).
    """
    import jax

    from physhmr_jax import pretrained
    from physhmr_jax.eval.results import evaluate_vision
    from physhmr_jax.motion.procedural import generate_library
    from physhmr_jax.vision.encoder_features import write_split_features
    from physhmr_jax.vision.encoder_train import split_shards
    from physhmr_jax.vision.shards import load_sample
    from physhmr_jax.vision.synth import synth_dataset

    start = time.perf_counter()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    student, encoder, expert = (pretrained.or_shipped(student, "student"), pretrained.or_shipped(encoder, "encoder"),
                                pretrained.or_shipped(expert, "expert"))  # fmt: skip
    jax.config.update("jax_compilation_cache_dir", str(out / ".jax_cache"))
    seconds: dict[str, float] = {}
    total = 5

    motions, videos = out / "motions", out / "videos"
    t = _stage(1, total, f"held-out procedural motions ({', '.join(motion_types)}; library seed {seed}) -> {motions}")
    clips = generate_library(1, seed=seed, motion_types=motion_types)
    if not all((motions / f"{c.name}.npz").is_file() for c in clips):
        for c in clips:
            c.save(motions / f"{c.name}.npz")
    seconds["motions"] = time.perf_counter() - t

    t = _stage(2, total, f"synthetic videos, one random camera per motion -> {videos}")
    if not (videos / "manifest.json").is_file():
        synth_dataset(clips, videos, cameras_per_clip=1, seed=seed, test_fraction=1.0, progress=progress)
    seconds["videos"] = time.perf_counter() - t

    t = _stage(3, total, f"image features from the encoder {encoder}")
    paths = split_shards(videos, "test")
    if any(load_sample(p, load_frames=False).features is None for p in paths):
        write_split_features(encoder, videos, split="test", progress=progress)
    seconds["features"] = time.perf_counter() - t

    results = out / "results"
    t = _stage(4, total, "the student, the kinematic and the two-stage baselines in simulation (compiles MJX)")
    table = evaluate_vision(
        videos, split="test", runs=[f"PhysHMR student={student}"], tracker=expert, out=results, motions=motions
    )
    seconds["table"] = time.perf_counter() - t

    # The video: one clip as the student played it in the table (from the motion's first
    # frame), the input frame with the simulated skeleton projected | MuJoCo's render; by
    # default the clip it tracks longest (``video_clip`` names one instead).
    tracked = [row["frames_tracked"] for row in table["rows"][-1]["per_clip"]["phc"]]
    index = next((i for i, p in enumerate(paths) if video_clip and p.name.startswith(video_clip)), None)
    index = int(np.argmax(tracked)) if index is None else index
    t = _stage(5, total, f"{paths[index].stem}: input | the student's humanoid -> {out / 'student.mp4'}")
    video = _student_video(table["sequences"][-1], paths[index], index, out / "student.mp4")
    seconds["video"] = time.perf_counter() - t

    summary = {
        "out": str(out),
        "checkpoints": {"student": student, "encoder": encoder, "expert": expert},
        "videos": len(paths),
        "table": str(results / "results.md"),
        "plot": table.get("plot"),
        "video": str(video),
        "rows": [{k: v for k, v in row.items() if k != "per_clip"} for row in table["rows"]],
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "wall_s": round(time.perf_counter() - start, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print()
    print(table["markdown"], end="")
    print(f"\n[demo] done in {summary['wall_s']:.0f} s -> {out}")
    print(f"[demo] video: {summary['video']}")
    print(f"[demo] per-frame errors: {summary['plot']}; table: {summary['table']}")
    return summary
