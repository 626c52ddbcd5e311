"""PPO actor and critic: SiLU MLPs, a Gaussian policy with a fixed (or learned) log-std.

PHC's imitation networks (PHC ``learning/im_big.yaml``): separate
actor and critic MLPs ``[2048, 1536, 1024, 1024, 512, 512]`` with SiLU, a linear mean head
(no squashing: the environment clips actions to [-1, 1]) and a constant log-std of -2.9
(sigma = 0.055 in action units) that is not learned.

Shape of the code (brax ``agents/ppo/networks.py``): flax linen ``@nn.compact`` modules
built by :func:`make_ppo_networks`, which returns a :class:`PPONetworks` record of pure
functions. Every apply takes the observation normaliser's parameters
(``brax.training.acme.running_statistics``) and normalises raw observations itself, so a
caller never has to remember which observations were already normalised.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from brax.training.acme import running_statistics
from jax import Array

from physhmr_jax.agents.mirror import Mirror, check_sizes, frozen, mirror_action, mirror_obs

Params = Any  # {"policy": flax variables, "value": flax variables}: a plain pytree

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "silu": nn.silu,
    "relu": nn.relu,
    "elu": nn.elu,
    "tanh": nn.tanh,
    "gelu": nn.gelu,
}
# Name of the policy's output layer (``zero_mean_policy`` in ``ppo.py`` zeroes it).
MEAN_HEAD = "mean_head"
_LOG_2PI = math.log(2.0 * math.pi)  # a Python float: importing this module starts no JAX backend


class MLP(nn.Module):
    """Dense layers ``hidden`` with ``activation`` between them; linear output of ``out_size``."""

    hidden: Sequence[int]
    out_size: int
    activation: str = "silu"
    # Variance scale of the output layer's initialiser (lecun normal = 1.0).
    out_init_scale: float = 1.0
    out_name: str = "out"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        act = ACTIVATIONS[self.activation]
        for i, width in enumerate(self.hidden):
            x = act(nn.Dense(width, name=f"hidden_{i}")(x))
        init = nn.initializers.variance_scaling(self.out_init_scale, "fan_in", "truncated_normal")
        return nn.Dense(self.out_size, kernel_init=init, name=self.out_name)(x)


class GaussianPolicy(nn.Module):
    """obs [..., O] -> (mean [..., A], log_std [..., A]) of a diagonal Gaussian over actions."""

    action_size: int
    hidden: Sequence[int]
    activation: str = "silu"
    log_std_init: float = -2.9
    learn_std: bool = False
    # The log std a parameter that no gradient moves: a schedule sets it before each iteration
    # (``ppo.log_std_schedule``, :func:`physhmr_jax.agents.schedules.set_log_std`).
    scheduled_std: bool = False
    # Variance scale of the mean head: 1e-4 (weights 0.01 x lecun normal, the usual PPO
    # head) makes the initial policy nearly zero-mean: PD targets near zero plus noise.
    head_init_scale: float = 1e-4

    @nn.compact
    def __call__(self, obs: Array) -> tuple[Array, Array]:
        mean = MLP(
            self.hidden, self.action_size, self.activation, out_init_scale=self.head_init_scale, out_name=MEAN_HEAD
        )(obs)
        if self.learn_std or self.scheduled_std:
            log_std = self.param("log_std", nn.initializers.constant(self.log_std_init), (self.action_size,))
            if self.scheduled_std:
                log_std = jax.lax.stop_gradient(log_std)
        else:
            log_std = jnp.full((self.action_size,), self.log_std_init, mean.dtype)
        return mean, jnp.broadcast_to(log_std, mean.shape)


class ValueNetwork(nn.Module):
    """obs [..., O] -> value [...]."""

    hidden: Sequence[int]
    activation: str = "silu"

    @nn.compact
    def __call__(self, obs: Array) -> Array:
        return MLP(self.hidden, 1, self.activation)(obs)[..., 0]


@dataclasses.dataclass(frozen=True)
class PPONetworks:
    """Actor and critic of one PPO agent; every function is pure and jittable.

    init(key) -> params {"policy": ..., "value": ...}
    policy(params, normalizer_params, obs [..., O]) -> (mean [..., A], log_std [..., A])
    value(params, normalizer_params, obs [..., O]) -> value [...]
    """

    policy_module: GaussianPolicy
    value_module: ValueNetwork
    obs_size: int
    action_size: int
    # Normalised observations are clipped to +-this (rl_games' RunningMeanStd clips at 5).
    normalized_obs_clip: float | None = 5.0
    # Mirror maps (agents/mirror.py, frozen) that make both networks symmetric by construction:
    # each apply reads the observation and its mirror in one batch and averages the two
    # answers, the policy's mirrored back (``ppo.symmetric_networks``). None: plain networks.
    mirror: Mirror | None = None

    def init(self, key: Array) -> Params:
        key_policy, key_value = jax.random.split(key)
        dummy = jnp.zeros((1, self.obs_size), jnp.float32)
        return {
            "policy": self.policy_module.init(key_policy, dummy),
            "value": self.value_module.init(key_value, dummy),
        }

    def normalize(self, normalizer_params: running_statistics.RunningStatisticsState, obs: Array) -> Array:
        return running_statistics.normalize(obs, normalizer_params, max_abs_value=self.normalized_obs_clip)

    def policy(self, params: Params, normalizer_params, obs: Array) -> tuple[Array, Array]:
        if self.mirror is None:
            return self.policy_module.apply(params["policy"], self.normalize(normalizer_params, obs))
        mean, log_std = self.policy_module.apply(params["policy"], self._both(normalizer_params, obs))
        perm = np.asarray(self.mirror.action_perm)  # a std is a size: it swaps sides, no sign
        return (
            0.5 * (mean[0] + mirror_action(self.mirror, mean[1])),
            0.5 * (log_std[0] + log_std[1][..., perm]),
        )

    def value(self, params: Params, normalizer_params, obs: Array) -> Array:
        if self.mirror is None:
            return self.value_module.apply(params["value"], self.normalize(normalizer_params, obs))
        value = self.value_module.apply(params["value"], self._both(normalizer_params, obs))
        return 0.5 * (value[0] + value[1])

    def _both(self, normalizer_params, obs: Array) -> Array:
        """[2, ..., O]: the observation and its mirror, each normalised (raw mirrored first)."""
        return self.normalize(normalizer_params, jnp.stack([obs, mirror_obs(self.mirror, obs)]))


def make_ppo_networks(
    obs_size: int,
    action_size: int,
    *,
    policy_hidden: Sequence[int],
    value_hidden: Sequence[int],
    activation: str = "silu",
    log_std_init: float = -2.9,
    learn_std: bool = False,
    scheduled_std: bool = False,
    head_init_scale: float = 1e-4,
    normalized_obs_clip: float | None = 5.0,
    mirror: Mirror | None = None,
) -> PPONetworks:
    """Separate actor and critic MLPs (PHC: both ``[2048, 1536, 1024, 1024, 512, 512]``, SiLU);
    symmetric by construction under ``mirror`` when one is given (:class:`PPONetworks`)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    policy = GaussianPolicy(
        action_size=action_size,
        hidden=tuple(policy_hidden),
        activation=activation,
        log_std_init=log_std_init,
        learn_std=learn_std,
        scheduled_std=scheduled_std,
        head_init_scale=head_init_scale,
    )
    value = ValueNetwork(hidden=tuple(value_hidden), activation=activation)
    if mirror is not None:
        check_sizes(mirror, obs_size, action_size, "ppo.symmetric_networks")
    return PPONetworks(
        policy, value, obs_size, action_size, normalized_obs_clip, None if mirror is None else frozen(mirror)
    )


def init_normalizer(obs_size: int) -> running_statistics.RunningStatisticsState:
    """Observation statistics before any data: mean 0, std 1 (normalisation is the identity).

    Every leaf is a float32/uint32 array (brax leaves ``std_eps`` a Python float), so a fresh,
    an updated and an orbax-restored state all hit the same compiled programs.
    """
    state = running_statistics.init_state(jax.ShapeDtypeStruct((obs_size,), jnp.float32))
    return state.replace(std_eps=jnp.asarray(state.std_eps, jnp.float32))


def gaussian_log_prob(action: Array, mean: Array, log_std: Array) -> Array:
    """log N(action; mean, exp(log_std)^2) summed over the last axis: [..., A] -> [...]."""
    z = (action - mean) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * jnp.square(z) - log_std - 0.5 * _LOG_2PI, axis=-1)


def gaussian_entropy(log_std: Array) -> Array:
    """Entropy of a diagonal Gaussian summed over the last axis: [..., A] -> [...]."""
    return jnp.sum(log_std + 0.5 * (1.0 + _LOG_2PI), axis=-1)


def zero_mean_policy(training_state):
    """The random baseline: a training state (any with ``params["policy"]``) whose policy
    mean head is zeroed, so actions are pure noise around 0.

    With PHC's fixed sigma this is what an untrained policy does (zero actions plus
    N(0, 0.055^2) per action); the critic and normaliser are kept.
    """

    def zero_head(path, leaf):
        in_head = any(getattr(entry, "key", None) == MEAN_HEAD for entry in path)
        return jnp.zeros_like(leaf) if in_head else leaf

    policy = jax.tree_util.tree_map_with_path(zero_head, training_state.params["policy"])
    training_state = training_state.replace(params={**training_state.params, "policy": policy})
    from physhmr_jax.agents import policy_average  # it imports acting, which imports this module

    return policy_average.restart(training_state, policy)  # the policy evaluations play, where kept


__all__ = [
    "MEAN_HEAD",
    "GaussianPolicy",
    "MLP",
    "PPONetworks",
    "Params",
    "ValueNetwork",
    "gaussian_entropy",
    "gaussian_log_prob",
    "init_normalizer",
    "zero_mean_policy",
    "make_ppo_networks",
]
