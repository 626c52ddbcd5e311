"""What distillation costs: the student's training env steps/s against its expert's at the same N.

``physhmr bench student --num-envs N [--teacher PATH] --json`` measures, in one process and
on the teacher's humanoid, motions and physics (default: the shipped procedural expert):

  * the expert: PPO training on the imitation env (the teacher's own config, with the
    student preset's horizon, epochs and minibatch size, one seed, N envs);
  * the student: DAgger training (``--stage distill``: behaviour cloning alone, no critic
    loss; ``finetune``: PPO + the MSE to the teacher) on the vision env with the same
    settings: the student's 924-D observation, the frozen teacher's forward pass on every
    step (the rollout's record hook), the video lookups;
  * ``ratio_student_vs_expert``: student over expert training env steps/s (the student
    issue's target is >= 0.7);
  * the two extra pieces timed alone, jitted, over the same N and one iteration's
    ``horizon`` steps: the teacher's labels (policy forward pass, action rule) and
    ``VideoLib.frame_at``, each as a fraction of the student's iteration (standalone
    programs: inside the iteration XLA fuses them with the rest, so these are estimates).

The videos are the teacher's clips, one static camera each, projected exactly (no
rendering: the cost does not depend on the pixels), with random 512-D features and the
true root rotation as the encoder's estimate.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax import pretrained
from physhmr_jax.agents import runner
from physhmr_jax.bench.train import device_description, time_trainer
from physhmr_jax.expert.build import build_expert
from physhmr_jax.expert.train import make_trainer
from physhmr_jax.motion.clip import Clip
from physhmr_jax.student import config as student_config
from physhmr_jax.student.build import build_student, make_algorithm, make_teacher_labels, teacher_config
from physhmr_jax.vision.encoder_train import camera_frame_targets
from physhmr_jax.vision.shards import VideoSample, load_sample
from physhmr_jax.vision.synth import synth_dataset

FEATURE_SIZE = 512  # the frozen encoder's feature size (PhysHMR's student observation: 924-D)


def exact_videos(clips: Sequence[Clip], *, feature_size: int = FEATURE_SIZE, seed: int = 0) -> list[VideoSample]:
    """One video per clip: one static camera, keypoints projected exactly, random features
    and the true root rotation as the encoder's estimate."""
    with tempfile.TemporaryDirectory() as tmp:
        synth_dataset(clips, tmp, cameras_per_clip=1, seed=seed, test_fraction=0.0, render=False,
                      noise=False, moving_fraction=0.0, progress=False)  # fmt: skip
        samples = [load_sample(p, load_frames=False) for p in sorted(Path(tmp, "train").glob("*.npz"))]
    rng = np.random.default_rng(seed)
    videos = []
    for sample in samples:
        _, root_6d_cam, _ = camera_frame_targets(sample)  # the truth, as the encoder head's estimate
        features = rng.normal(size=(len(sample.kp2d), feature_size)).astype(np.float32)
        videos.append(dataclasses.replace(sample, features=features, root_6d_estimate=root_6d_cam))
    return videos


def _time_standalone(fn, args, repeats: int) -> float:
    """Seconds for ``repeats`` calls of jitted ``fn(*args)`` after a compiling one."""
    compiled = jax.jit(fn)
    jax.block_until_ready(compiled(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = compiled(*args)
    jax.block_until_ready(out)
    return time.perf_counter() - start


def run_student_bench(
    *,
    num_envs: int = 128,
    preset: str = "cpu",
    iterations: int = 3,
    teacher: str | None = None,
    stage: str = "distill",
) -> dict:
    config = student_config.default_config(preset, stage)
    config.teacher.path = pretrained.or_shipped(teacher, "expert")
    config.ppo.num_envs, config.ppo.num_seeds = num_envs, 1
    batch = num_envs * config.ppo.horizon
    if batch % config.ppo.minibatch_size:  # keep the preset's minibatch size when it divides
        config.ppo.minibatch_size = batch // max(1, round(batch / config.ppo.minibatch_size))
    expert_cfg = teacher_config(config.teacher.path)
    for name in ("num_envs", "num_seeds", "horizon", "num_epochs", "minibatch_size"):
        expert_cfg.ppo[name] = config.ppo[name]
    expert = build_expert(expert_cfg)
    student = build_student(config, samples=exact_videos(expert.clips))

    expert_timing = time_trainer(make_trainer(expert), expert.motion_lib, iterations)
    trainer = runner.Trainer(make_algorithm(student), num_seeds=1)
    student_timing = time_trainer(trainer, student.data, iterations)
    horizon = config.ppo.horizon
    expert_sps = num_envs * horizon / expert_timing["seconds_per_iteration"]
    student_sps = num_envs * horizon / student_timing["seconds_per_iteration"]

    # The two pieces the student adds, alone, over N envs and one iteration's horizon.
    data = student.data
    keys = jax.random.split(jax.random.PRNGKey(0), num_envs)
    states = jax.jit(jax.vmap(student.training_env.reset, in_axes=(0, None)))(keys, data)
    labels = make_teacher_labels(student.teacher, student.expert.env, student.env)
    labels_s = _time_standalone(labels, (data, states), horizon)
    video_ids = jnp.arange(num_envs) % data.video_lib.num_videos
    frame_s = _time_standalone(data.video_lib.frame_at, (video_ids, jnp.full((num_envs,), 0.5)), horizon)
    iteration_s = student_timing["seconds_per_iteration"]
    return {
        "device": device_description(),
        "teacher": config.teacher.path,
        "preset": preset,
        "stage": stage,
        "num_envs": num_envs,
        "horizon": horizon,
        "num_epochs": config.ppo.num_epochs,
        "minibatch_size": config.ppo.minibatch_size,
        "control_substeps": student.expert.humanoid.substeps,
        "videos": data.video_lib.num_videos,
        "student_observation_size": student.env.observation_size,
        "expert_observation_size": expert.env.observation_size,
        "expert_policy_hidden": list(expert.ppo_config.policy_hidden),
        "student_policy_hidden": list(student.ppo_config.policy_hidden),
        **{f"expert_{k}": v for k, v in expert_timing.items()},
        **{f"student_{k}": v for k, v in student_timing.items()},
        "expert_train_env_steps_per_s": expert_sps,
        "student_train_env_steps_per_s": student_sps,
        "ratio_student_vs_expert": student_sps / expert_sps,
        "teacher_labels_s_per_iteration": labels_s,
        "teacher_labels_fraction_of_student_iteration": labels_s / iteration_s,
        "frame_at_s_per_iteration": frame_s,
        "frame_at_fraction_of_student_iteration": frame_s / iteration_s,
    }


__all__ = ["FEATURE_SIZE", "exact_videos", "run_student_bench"]
