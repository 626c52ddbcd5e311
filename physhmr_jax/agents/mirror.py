"""Mirror maps of an environment's observation and action, as PPO's symmetry options read them.

An environment whose task is symmetric under a reflection (a humanoid's left-right mirror)
gives its observation and action maps as signed permutations, ``x[..., perm] * sign``; the
imitation env's are built in ``envs/symmetry.py``. Two ways to use them:

- ``ppo.symmetry_coef`` adds mean((mean(mirror_obs(obs)) - mirror_action(mean(obs)))^2) to
  the policy loss (``agents/losses.py``; Yu, Turk and Liu 2018): a soft pull;
- ``ppo.symmetric_networks`` makes actor and critic symmetric by construction
  (``agents/networks.py``): mean(o) = (f(o) + mirror_action(f(mirror_obs(o)))) / 2 and
  V(o) = (v(o) + v(mirror_obs(o))) / 2, so the mirror gap is exactly zero (Abdolhosseini et
  al. 2019's symmetric network, in its averaging form).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jax import Array

from physhmr_jax.config_io import ConfigError


class Mirror(NamedTuple):
    """Signed permutations of the observation and the action: ``x[..., perm] * sign``.

    The fields are arrays or, in :func:`frozen`'s form, tuples (hashable, so a frozen
    dataclass that holds one still compares and hashes)."""

    obs_perm: np.ndarray  # [O] int
    obs_sign: np.ndarray  # [O] float
    action_perm: np.ndarray  # [A] int
    action_sign: np.ndarray  # [A] float


def frozen(mirror: Mirror) -> Mirror:
    """The same maps with tuples for arrays."""
    return Mirror(*(tuple(np.asarray(x).tolist()) for x in mirror))


def check_sizes(mirror: Mirror, obs_size: int, action_size: int, option: str) -> None:
    """Raise a ``ConfigError`` naming ``option`` unless the maps fit ``obs_size`` and ``action_size``."""
    got = (len(mirror.obs_perm), len(mirror.action_perm))
    if got != (obs_size, action_size):
        raise ConfigError(
            f"{option}: the mirror maps have {got[0]} observation and {got[1]} action entries, "
            f"the networks read {obs_size} and write {action_size}"
        )


def mirror_obs(mirror: Mirror, obs: Array) -> Array:
    """[..., O] -> the mirrored state's observation."""
    return obs[..., np.asarray(mirror.obs_perm)] * np.asarray(mirror.obs_sign, np.float32)


def mirror_action(mirror: Mirror, action: Array) -> Array:
    """[..., A] -> the mirrored action."""
    return action[..., np.asarray(mirror.action_perm)] * np.asarray(mirror.action_sign, np.float32)


__all__ = ["Mirror", "check_sizes", "frozen", "mirror_action", "mirror_obs"]
