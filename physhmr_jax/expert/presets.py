"""The expert's preset registry (the CLI's ``--preset`` choices), free of heavy imports.

Each preset names the PPO preset it uses (:data:`physhmr_jax.agents.ppo.PRESETS`), its
overrides of PPO and env settings, and its run settings (iterations are totals;
``--iterations`` overrides; ``eval_every`` iterations between evaluations of every clip
from its first frame, 0 = none).

The expert's recipe (``smoke``, ``cpu``, ``gpu``): residual actions about the reference
pose, each PPO preset's fixed learning rate. The KL-adaptive rate
(``--set ppo.learning_rate_schedule=kl_adaptive``) learned more slowly at equal env steps
with its 0.02 target (``docs/expert.md``), so it is not the default. PHC's recipe stays
reachable for comparison: ``phc`` (PHC's networks and PPO settings, absolute PD targets)
and ``cpu-phc`` (the same on the ``cpu`` networks, rate 3e-4).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

_RECIPE_PPO: dict[str, Any] = {}
_RECIPE_ENV = {"action_mode": "residual"}
_PHC_ENV = {"action_mode": "absolute"}

PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        "smoke": {
            "ppo": "smoke", "ppo_overrides": _RECIPE_PPO, "env": _RECIPE_ENV,
            "run": {"iterations": 20, "checkpoint_every": 10, "eval_every": 0},
        },
        "cpu": {
            "ppo": "cpu", "ppo_overrides": _RECIPE_PPO, "env": _RECIPE_ENV,
            "run": {"iterations": 2000, "checkpoint_every": 50, "eval_every": 10},
        },
        "gpu": {
            "ppo": "gpu", "ppo_overrides": _RECIPE_PPO, "env": _RECIPE_ENV,
            "run": {"iterations": 20000, "checkpoint_every": 200, "eval_every": 50},
        },
        "cpu-phc": {
            "ppo": "cpu", "ppo_overrides": {}, "env": _PHC_ENV,
            "run": {"iterations": 2000, "checkpoint_every": 50, "eval_every": 10},
        },
        "phc": {
            "ppo": "gpu", "ppo_overrides": {}, "env": _PHC_ENV,
            "run": {"iterations": 20000, "checkpoint_every": 200, "eval_every": 50},
        },
    }
)  # fmt: skip

__all__ = ["PRESETS"]
