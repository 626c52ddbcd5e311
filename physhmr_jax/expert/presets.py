"""The expert's preset registry (the CLI's ``--preset`` choices), free of heavy imports.

Each preset names the PPO preset it uses (:data:`physhmr_jax.agents.ppo.PRESETS`) and its
run settings (iterations are totals; ``--iterations`` overrides).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        "smoke": {"ppo": "smoke", "run": {"iterations": 20, "checkpoint_every": 10}},
        "cpu": {"ppo": "cpu", "run": {"iterations": 2000, "checkpoint_every": 50}},
        "gpu": {"ppo": "gpu", "run": {"iterations": 20000, "checkpoint_every": 200}},
    }
)

__all__ = ["PRESETS"]
