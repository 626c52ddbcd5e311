"""The expert run's config and its named presets.

One ``ConfigDict`` per run with the sections ``ppo`` (:func:`physhmr_jax.agents.ppo.
default_config` with a PPO preset), ``env`` (:func:`physhmr_jax.envs.imitation.
default_config`), ``humanoid`` (:func:`physhmr_jax.humanoid.mjcf.default_config`),
``motions`` (where the clips come from and which body plays them) and ``run``
(iterations, checkpoints, seed). It is saved as ``config.json`` in the run directory and
read back equal (:mod:`physhmr_jax.config_io`).
"""

from __future__ import annotations

import os
from pathlib import Path

import ml_collections

from physhmr_jax import config_io
from physhmr_jax.agents import ppo, run_dir
from physhmr_jax.envs import imitation
from physhmr_jax.expert.presets import PRESETS
from physhmr_jax.humanoid import mjcf

PROCEDURAL = "procedural"  # motions.path of the built-in procedural library
# How training episodes pick their clip (envs/clip_sampling.py): "duration" (the library's
# weights) or "failure" (by the failure rate in training, counted in failure_segments
# equal parts of each clip, sharing out resets or steps: failure_per, the steps capped per
# clip at failure_max_step_share; weighting each part by its rate or, failure_score progress,
# by the change of it against the counts at failure_slow_decay; a step counted in the part of
# its own time or, failure_place start, of its episode's start); a run saved before these
# entries existed reads them as these defaults.
CLIP_SAMPLING_DEFAULTS = {
    "clip_sampling": "duration",
    "failure_decay": 0.9,
    "failure_floor": 0.2,
    "failure_segments": 1,
    "failure_per": "reset",
    "failure_max_step_share": 0.35,
    "failure_score": "rate",
    "failure_slow_decay": 0.98,
    "failure_place": "step",
}


def default_config(preset: str = "cpu", **ppo_overrides) -> ml_collections.ConfigDict:
    """The whole run's config for a named preset (one of :data:`PRESETS`)."""
    if preset not in PRESETS:
        raise config_io.ConfigError(f"unknown expert preset {preset!r}; choose one of {sorted(PRESETS)}")
    spec = PRESETS[preset]
    env = imitation.default_config()
    env.update(dict(spec["env"]))
    return ml_collections.ConfigDict(
        {
            "preset": preset,
            "ppo": ppo.get_config(spec["ppo"], **{**spec["ppo_overrides"], **ppo_overrides}).to_dict(),
            "env": env.to_dict(),
            "humanoid": mjcf.default_config().to_dict(),
            "motions": {
                "path": PROCEDURAL,
                "skeleton": "mean",
                "procedural_per_type": 2,
                "procedural_seed": 0,
                **CLIP_SAMPLING_DEFAULTS,
            },
            "run": {**spec["run"], "seed": 0},
        }
    )


def load_config(out: str | os.PathLike) -> ml_collections.ConfigDict:
    """The config a run directory was trained with (its ``config.json``)."""
    config = run_dir.load_config(out)
    try:
        return config_io.from_dict(config)
    except (ValueError, AttributeError) as err:  # ConfigDict refuses dotted and reserved keys
        raise run_dir.RunDirError(Path(out) / run_dir.CONFIG_FILE, f"not a config ({err})") from None


def ppo_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The ``ppo`` section on top of PPO's defaults, validated."""
    base = ppo.default_config()
    base.update(dict(config.ppo))
    ppo.num_minibatches(base)
    return base


def env_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The ``env`` section on top of the imitation env's defaults."""
    base = imitation.default_config()
    base.update(dict(config.env))
    return base


def humanoid_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The ``humanoid`` section on top of the humanoid's defaults."""
    return mjcf.default_config(**dict(config.humanoid))


def clip_sampling_settings(config: ml_collections.ConfigDict) -> dict:
    """The ``motions`` section's clip sampling entries, defaults filled in."""
    return {k: config.motions.get(k, v) for k, v in CLIP_SAMPLING_DEFAULTS.items()}


__all__ = [
    "CLIP_SAMPLING_DEFAULTS",
    "PRESETS",
    "PROCEDURAL",
    "clip_sampling_settings",
    "default_config",
    "env_config",
    "humanoid_config",
    "load_config",
    "ppo_config",
]
