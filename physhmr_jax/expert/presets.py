"""The expert's preset registry (the CLI's ``--preset`` choices), free of heavy imports.

Each preset names the PPO preset it uses (:data:`physhmr_jax.agents.ppo.PRESETS`), its
overrides of PPO and env settings, and its run settings (iterations are totals;
``--iterations`` overrides; ``eval_every`` iterations between evaluations of every clip
from its first frame, 0 = none).

The expert's recipe (``smoke``, ``cpu``, ``gpu``, ``pod``): residual actions about the
reference pose, each PPO preset's fixed learning rate. ``pod`` is ``gpu`` (PHC's networks,
horizon 32, 6 epochs, rate 2e-5) scaled out over a TPU pod slice or several GPU hosts
(``docs/scaling.md``): 16,384 environments per seed, the global batch split evenly over
every device of every host (512 per device on 32 devices; any power-of-two device
count up to 16,384 divides it), in 8 minibatches of 65,536 transitions (``gpu``: 8 of
16,384), for a quarter of ``gpu``'s iterations: the same 2.6e9 env steps per seed
(iterations x environments x horizon). The KL-adaptive rate
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
_POD_PPO = {"num_envs": 16384, "minibatch_size": 65536}  # 16,384 envs x 32 steps = 8 minibatches

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
        "pod": {
            "ppo": "gpu", "ppo_overrides": {**_RECIPE_PPO, **_POD_PPO}, "env": _RECIPE_ENV,
            "run": {"iterations": 5000, "checkpoint_every": 50, "eval_every": 25},
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
