"""``physhmr reconstruct``: one video in, the simulated humanoid's motion out.

The trained student (a ``physhmr train student`` run or an exported student file) plays the
video from its first frame in the physics simulation; nothing of the video's ground truth is
read, so an imported real video (keypoints, camera, encoder features) works as a synthetic
one does.

Where the humanoid starts: the vision env starts at the reference state of "the video's
motion". A real video has none, so the motion here is the kinematic estimate of the video
itself: the encoder's per-frame pose placed on the pelvis ray, smoothed, retargeted to the
humanoid by the mocap importer's IK fit and put on the floor (the two-stage baseline's
first stage, :mod:`physhmr_jax.eval.results`). Only its first frame matters: the play runs
without early termination, and the student's observation never reads the motion
(``tests/test_vision_env.py``).

Outputs in ``--out``: ``reconstruction.npz`` (our clip format, 30 Hz, on the student's
body), ``reconstruction.bvh`` (:mod:`physhmr_jax.motion.bvh_write`; ``load_bvh`` reads it
back), ``reconstruction.mp4`` (the input frame with the simulated skeleton projected by the
video's camera | MuJoCo's render of the humanoid), ``estimate.npz`` (the retargeted
kinematic estimate the humanoid started from) and ``summary.json`` (control steps played, compile and play
seconds, the real-time factor; errors against ``joints3d`` when the shard has it).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.config_io import ConfigError
from physhmr_jax.eval.results import SMOOTH_FRAMES
from physhmr_jax.vision.shards import encoder_output, load_sample

QPOS = "qpos"
BODY_POS = "body_pos"


def _check_estimates(sample, path) -> None:
    for key in ("features", "root_6d_estimate", "joints_rel_cam_estimate"):
        encoder_output(sample, key, path)


def overlay_frames(sample, body_pos: np.ndarray, frames: np.ndarray, height_px: int) -> list[np.ndarray]:
    """The input frames ``frames`` [N] (grey when the shard has none) with the simulated
    bodies ``body_pos`` [N, 24, 3] projected by the video's camera and joined by the
    skeleton's bones, scaled to ``height_px``."""
    from PIL import Image

    from physhmr_jax.humanoid.skeleton import BODY_NAMES
    from physhmr_jax.vision import show

    width, height = show.canvas_size(sample)
    uv, depth = show.project_np(sample.K, sample.R_wc[frames], sample.t_wc[frames], body_pos)
    bones = show.bones_for(BODY_NAMES)
    out = []
    for i, f in enumerate(frames):
        image = (
            sample.frames[f] if sample.frames is not None else np.full((height, width, 3), show.CANVAS_GREY, np.uint8)
        )
        visible = (depth[i] > 0).astype(np.float32)
        drawn = show.draw_frame(image, uv[i], visible, bones, label=f"{sample.name} frame {f}")
        w = max(2, int(round(drawn.shape[1] * height_px / drawn.shape[0])))
        out.append(np.asarray(Image.fromarray(drawn).resize((w, height_px), Image.BILINEAR)))
    return out


def reconstruct(
    video: str | Path,
    run: str | Path,
    out: str | Path,
    *,
    seed_index: int = 0,
    iteration: int | None = None,
    smooth_frames: int = SMOOTH_FRAMES,
    render: bool = True,
) -> dict:
    """Play the student of ``run`` on the shard ``video``; write the outputs (module docstring) to ``out``."""
    from physhmr_jax.agents import ppo
    from physhmr_jax.envs import imitation, vision
    from physhmr_jax.eval import metrics, protocols
    from physhmr_jax.eval.results import retargeted_estimate
    from physhmr_jax.expert import evaluate as expert_evaluate
    from physhmr_jax.expert.build import build_expert
    from physhmr_jax.humanoid.skeleton import FOOT_BODIES
    from physhmr_jax.motion.bvh_write import write_bvh
    from physhmr_jax.motion.clip import Clip
    from physhmr_jax.student import config as student_config
    from physhmr_jax.student.build import ablation, vision_env_config
    from physhmr_jax.student.export import load_student_policy
    from physhmr_jax.vision.encoder_features import kinematic_world_joints
    from physhmr_jax.vision.video_lib import build_video_lib

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sample = load_sample(video, load_frames=render)
    _check_estimates(sample, video)
    policy = load_student_policy(run, seed_index=seed_index, iteration=iteration)
    if policy.feature_size != sample.features.shape[-1]:
        raise ConfigError(
            f"{video}: features of {sample.features.shape[-1]} dims, the student {run} reads {policy.feature_size}"
        )

    # The start: the video's own kinematic estimate, retargeted (module docstring).
    kinematic = kinematic_world_joints(sample.joints_rel_cam_estimate, sample)[0]
    name = sample.motion_name or sample.name or Path(video).stem
    estimate = retargeted_estimate(name, str(video), sample.fps, kinematic, smooth_frames)
    estimate_path = estimate.save(out / "estimate.npz")
    expert = build_expert(policy.teacher_config, motions=[str(estimate_path)])
    sample = dataclasses.replace(sample, motion_name=expert.clips[0].name)
    root_position = ablation(policy.config) == "root_position"
    video_lib = build_video_lib([sample], expert.motion_lib, root_position=root_position)
    env_config = vision_env_config(policy.teacher_config, "first", ablation(policy.config))
    env = vision.VisionEnv(expert.humanoid, video_lib.feature_size, env_config)
    state = policy.state
    networks = ppo.make_networks(env, student_config.ppo_config(policy.config))
    data = vision.VisionData(expert.motion_lib, video_lib)
    # The student steps at the control rate (30 Hz) and reads the frame shown at each step's
    # time, so a video of any frame rate plays (VideoLib.frame_at): every step whose frame exists.
    steps = int(np.floor((sample.num_frames - 1) / sample.fps / env.dt + 1e-3)) + 1
    frame_of_step = np.asarray(video_lib.frame_index(jnp.zeros(steps, jnp.int32), jnp.arange(steps) * env.dt))

    def play(training_state, env_data):
        def record(s, action, next_state):
            del action, next_state
            return {QPOS: s.data.qpos, BODY_POS: jax.vmap(imitation.body_kinematics)(s.data).pos}

        policy = expert_evaluate.mean_action_policy(networks, training_state)
        return expert_evaluate.play_from_first_frames(env, policy, env_data, 1, steps, record)

    start = time.perf_counter()
    compiled = jax.jit(play).lower(state, data).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    extras = jax.block_until_ready(compiled(state, data).extras)
    play_s = time.perf_counter() - start
    qpos = np.asarray(extras[QPOS])[:, 0].astype(np.float64)
    body_pos = np.asarray(extras[BODY_POS])[:, 0].astype(np.float64)

    clip = Clip(name, 1.0 / env.dt, qpos[:, :3], qpos[:, 3:7], qpos[:, 7:], expert.humanoid.skeleton, str(video))
    outputs = {
        "npz": str(clip.save(out / "reconstruction.npz")),
        "bvh": str(write_bvh(out / "reconstruction.bvh", clip)),
    }
    if render:
        from physhmr_jax.humanoid.render import FRAME_SIZE, render_qpos, write_side_by_side

        right = render_qpos(expert.humanoid.mj_model, qpos)
        left = overlay_frames(sample, body_pos, frame_of_step, FRAME_SIZE[0])
        path = out / "reconstruction.mp4"
        write_side_by_side(path, left, right, fps=1.0 / env.dt)
        outputs["mp4"] = str(path)
    seconds = steps * env.dt
    summary = {
        "video": str(video),
        "run": str(run),
        "steps": steps,
        "video_frames": sample.num_frames,
        "video_fps": sample.fps,
        "video_seconds": round(seconds, 3),
        "compile_s": round(compile_s, 2),
        "play_s": round(play_s, 3),
        "realtime_factor": round(seconds / max(play_s, 1e-9), 1),
        "outputs": outputs,
    }
    if sample.joints3d is not None:
        gt = sample.joints3d[frame_of_step]
        summary["phc"] = protocols.phc_sequence(body_pos, gt, foot_indices=FOOT_BODIES)
        summary["physhmr"] = {
            k: v for k, v in protocols.physhmr_protocol([(body_pos, gt)], foot_indices=FOOT_BODIES).items()
            if k != "per_clip"
        }  # fmt: skip
        summary["estimate_g_mpjpe_mm"] = float(
            metrics.M_TO_MM * np.mean(np.linalg.norm(kinematic - sample.joints3d, axis=-1))
        )
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


__all__ = ["overlay_frames", "reconstruct"]
