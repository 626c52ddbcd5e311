"""``make demo``: the foundation end to end on the embedded default.

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
