"""Mirror maps of an environment's observation and action, as PPO's symmetry loss reads them.

An environment whose task is symmetric under a reflection (a humanoid's left-right mirror)
gives its observation and action maps as signed permutations, ``x[..., perm] * sign``; the
imitation env's are built in ``envs/symmetry.py``. ``ppo.symmetry_coef`` then adds
mean((mean(mirror_obs(obs)) - mirror_action(mean(obs)))^2) to the policy loss
(``agents/losses.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jax import Array


class Mirror(NamedTuple):
    """Signed permutations of the observation and the action: ``x[..., perm] * sign``."""

    obs_perm: np.ndarray  # [O] int
    obs_sign: np.ndarray  # [O] float
    action_perm: np.ndarray  # [A] int
    action_sign: np.ndarray  # [A] float


def mirror_obs(mirror: Mirror, obs: Array) -> Array:
    """[..., O] -> the mirrored state's observation."""
    return obs[..., mirror.obs_perm] * mirror.obs_sign


def mirror_action(mirror: Mirror, action: Array) -> Array:
    """[..., A] -> the mirrored action."""
    return action[..., mirror.action_perm] * mirror.action_sign


__all__ = ["Mirror", "mirror_action", "mirror_obs"]
