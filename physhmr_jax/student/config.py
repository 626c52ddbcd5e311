"""The student run's config and its presets.

One ``ConfigDict`` per run, saved as ``config.json`` in the run directory:

  * ``teacher``: the expert it learns from (``path``: an exported policy ``.npz`` or an
    expert run directory; ``seed_index``). The humanoid, the motion set and the imitation
    settings (reward, termination, future frames of the teacher's observation) are the
    teacher's, read from its config: the student plays the same body on the same motions.
  * ``data``: the video benchmark (``path`` with ``train/`` and ``test/`` shards carrying
    encoder features; ``split``: the training split; ``eval_split``: the videos the
    in-training evaluation plays every ``run.eval_every`` iterations, 0 = never).
  * ``stage``: ``distill`` (DAgger, behaviour cloning only: PhysHMR's kin_weight > 1e6) or
    ``finetune`` (PPO on the imitation reward + ``kin_weight`` 0.1 times the MSE to the
    teacher, PhysHMR's BC + RL).
  * ``init``: a student run whose networks and observation statistics (one seed's, for
    every seed here) the run starts from: fine-tuning starts from the distilled student.
  * ``ppo``: the PPO settings (the stage sets ``kin_weight``); ``env``: the vision env's
    start rule (``random`` frame in training) and input ablation (``none``); ``run``:
    iterations, checkpoints, seed.
"""

from __future__ import annotations

import ml_collections

from physhmr_jax import config_io
from physhmr_jax.agents import losses, ppo
from physhmr_jax.expert.config import load_config, ppo_config  # the same run config sections

STAGES = {"distill": 2.0 * losses.BC_ONLY_KIN_WEIGHT, "finetune": 0.1}  # stage -> kin_weight
PRESETS = {
    "smoke": {"ppo": "smoke", "run": {"iterations": 20, "checkpoint_every": 10, "eval_every": 0}},
    "cpu": {"ppo": "cpu", "run": {"iterations": 500, "checkpoint_every": 50, "eval_every": 10}},
    "gpu": {"ppo": "gpu", "run": {"iterations": 20000, "checkpoint_every": 200, "eval_every": 50}},
}


def default_config(preset: str = "cpu", stage: str = "distill") -> ml_collections.ConfigDict:
    if preset not in PRESETS:
        raise config_io.ConfigError(f"unknown student preset {preset!r}; choose one of {sorted(PRESETS)}")
    if stage not in STAGES:
        raise config_io.ConfigError(f"unknown student stage {stage!r}; choose one of {sorted(STAGES)}")
    spec = PRESETS[preset]
    return ml_collections.ConfigDict(
        {
            "preset": preset,
            "stage": stage,
            "teacher": {"path": "", "seed_index": 0},
            "data": {"path": "", "split": "train", "eval_split": "test"},
            # Start from another student run's weights (fine-tuning a distilled student).
            "init": {"path": "", "seed_index": 0},
            "ppo": ppo.get_config(spec["ppo"], kin_weight=STAGES[stage]).to_dict(),
            # The input ablation of the vision env (envs/vision.py: none, no_rays, no_features,
            # root_position).
            "env": {"start": "random", "ablation": "none"},
            "run": {**spec["run"], "seed": 0},
        }
    )


__all__ = ["PRESETS", "STAGES", "default_config", "load_config", "ppo_config"]
