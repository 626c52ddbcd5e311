"""PPO's settings: PHC's values (``learning/im_big.yaml``) and named presets per scale.

``default_config()`` is PHC's PPO; :data:`PRESETS` override some of it for a scale
(``smoke``: tests, ``cpu``: this kind of machine, ``gpu``: one accelerator, PHC's networks);
``get_config(preset, **overrides)`` applies one and validates the batch split.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import ml_collections

from physhmr_jax.config_io import ConfigError

# PHC's actor and critic widths.
PHC_HIDDEN = (2048, 1536, 1024, 1024, 512, 512)


def default_config() -> ml_collections.ConfigDict:
    """PHC's PPO settings (``learning/im_big.yaml``). Presets override some."""
    config = ml_collections.ConfigDict(
        {
            # Rollout.
            "num_envs": 3072,
            "horizon": 32,  # control steps per env per iteration (rl_games horizon_length)
            # SGD: num_envs * horizon transitions in minibatches of minibatch_size.
            "num_epochs": 6,
            "minibatch_size": 16384,
            "learning_rate": 2e-5,
            # "fixed" (PHC); "linear": at the start of each iteration the rate is
            # learning_rate + (learning_rate_final - learning_rate) * min(1, env steps so far /
            # learning_rate_decay_env_steps) (env steps per seed, the sample-efficiency axis);
            # or "kl_adaptive" (rl_games' adaptive schedule): after every minibatch step the
            # rate is divided by learning_rate_factor when that minibatch's approximate KL
            # exceeds 2 * kl_target and multiplied by it when the KL is below kl_target / 2,
            # within [learning_rate_min, learning_rate_max].
            "learning_rate_schedule": "fixed",
            "learning_rate_final": 2e-6,
            "learning_rate_decay_env_steps": 1_000_000,
            "kl_target": 0.02,
            "learning_rate_factor": 1.5,
            "learning_rate_min": 1e-6,
            "learning_rate_max": 1e-2,
            "adam_eps": 1e-8,
            "max_grad_norm": 50.0,  # global-norm clip of each minibatch gradient
            # Returns.
            "discount": 0.99,
            "gae_lambda": 0.95,
            # Loss.
            "clip_eps": 0.2,
            "value_coef": 5.0,  # times 0.5 * (V - target)^2, as rl_games' critic_coef
            # Weight of every policy term (surrogate, entropy, bounds, the teacher's MSE outside
            # behaviour-cloning mode). 0 freezes the policy exactly and trains the critic alone:
            # a critic warm-up before fine-tuning a policy whose run trained no critic.
            "policy_coef": 1.0,
            # Left-right mirror loss (Yu, Turk and Liu 2018): + symmetry_coef x the mean squared
            # gap between the action mean of the mirrored observation and the mirrored action
            # mean (envs/symmetry.py), a policy term. 0 = off; > 0 needs an env with a mirror
            # (``make_algorithm(..., mirror=)``; the expert's imitation env has one).
            "symmetry_coef": 0.0,
            # Actor and critic symmetric by construction under the same mirror maps: each
            # averages its answer on the observation and (mirrored back) on its mirror
            # (agents/networks.py). The mirror gap is then zero, so symmetry_coef adds nothing.
            "symmetric_networks": False,
            "entropy_coef": 0.0,
            "bounds_coef": 10.0,  # penalty on |action mean| beyond action_bound
            "action_bound": 1.1,
            "value_clip_eps": 0.0,  # 0 = no value clipping (PHC clip_value False)
            # Distillation from a teacher (``make_algorithm(..., teacher=)``): weight of the
            # MSE to the teacher's action (PhysHMR's kin_weight; its BC + RL default 0.1);
            # above 1e6, behaviour cloning only (losses.BC_ONLY_KIN_WEIGHT). 0 without a teacher.
            "kin_weight": 0.0,
            # Motion prior (AMP, ``make_algorithm(..., motion_prior=)``; agents/amp.py, ASE's
            # amp_agent values): reward = (1 - amp_weight) task + amp_weight style (PhysHMR
            # 0.5; 0 = no prior, no discriminator). The discriminator's MLP, Adam rate, logit
            # regularisation, gradient penalty on the reference samples, weight decay and
            # style reward scale.
            "amp_weight": 0.0,
            "amp_hidden": [1024, 512],
            "amp_learning_rate": 1e-4,
            "amp_logit_reg": 0.05,
            "amp_grad_penalty": 5.0,
            "amp_weight_decay": 1e-4,
            "amp_reward_scale": 2.0,
            # A moving average of the policy's weights, kept beside them (0 = none): after each
            # iteration average <- d * average + (1 - d) * policy. When kept, it is the policy
            # that evaluations play and exports write (``ppo.policy_params``); training acts
            # with the current one. Not PHC's: neighbouring checkpoints track different clips
            # (docs/expert.md, averaged weights); 0.9 tracked no more walks than the current
            # weights of the same run.
            "policy_average_decay": 0.0,
            "normalize_advantages": True,
            # Observation normalisation (running mean / std, normalised values clipped).
            "normalize_observations": True,
            # Standardise the critic's targets by their running statistics (rl_games'
            # normalize_value, on in PHC); the critic's output is de-standardised for GAE.
            # Off: no faster at equal env steps on the CMU walks (docs/expert.md).
            "normalize_values": False,
            "normalized_obs_clip": 5.0,
            # Networks.
            # Lists, not tuples: a config read back from config.json equals the original.
            "policy_hidden": list(PHC_HIDDEN),
            "value_hidden": list(PHC_HIDDEN),
            "activation": "silu",
            "log_std_init": -2.9,
            "learn_std": False,
            # "fixed": the action std stays exp(log_std_init) (PHC), unless learn_std; "linear":
            # at the start of each iteration the log std is log_std_init + (log_std_final -
            # log_std_init) * min(1, env steps so far / log_std_decay_env_steps) (env steps
            # per seed), a parameter no gradient moves. Not with learn_std.
            "log_std_schedule": "fixed",
            "log_std_final": -3.5,
            "log_std_decay_env_steps": 1_000_000,
            "head_init_scale": 1e-4,
            # Independent seeds trained side by side by the driver (``runner.Trainer``, vmap).
            "num_seeds": 1,
        }
    )
    config.lock()
    return config


# Overrides of ``default_config()`` per named preset (read-only; ``get_config`` applies one).
PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        # One iteration compiles in about a minute on a 2-core CPU (the MJX step is most
        # of it) and then runs in ~0.15-0.2 s; the standing task visibly learns within
        # 100 iterations (tests/test_ppo.py).
        "smoke": types.MappingProxyType(
            {
                "num_envs": 8,
                "horizon": 8,
                "num_epochs": 2,
                "minibatch_size": 32,  # 8 * 8 / 32 = 2 minibatches
                "policy_hidden": [64, 64],
                "value_hidden": [64, 64],
                # PHC's 2e-5 is for 131k-transition batches; with 64 transitions per
                # iteration 1e-4 learns the standing task in ~100 iterations and keeps the
                # approximate KL per iteration ~0.05 (1e-3 gives KL > 1 and diverges).
                "learning_rate": 1e-4,
                "max_grad_norm": 1.0,
            }
        ),
        # CPU demos: a few hundred environments, small networks.
        "cpu": types.MappingProxyType(
            {
                "num_envs": 256,
                "horizon": 32,
                "num_epochs": 6,
                "minibatch_size": 2048,  # 4 minibatches
                "policy_hidden": [256, 256],
                "value_hidden": [256, 256],
                "learning_rate": 3e-4,
                "max_grad_norm": 1.0,
            }
        ),
        # One accelerator: PHC's networks and PPO settings with 4096 environments.
        "gpu": types.MappingProxyType(
            {
                "num_envs": 4096,
                "horizon": 32,
                "num_epochs": 6,
                "minibatch_size": 16384,  # 8 minibatches
                "policy_hidden": list(PHC_HIDDEN),
                "value_hidden": list(PHC_HIDDEN),
                "learning_rate": 2e-5,
            }
        ),
    }
)


def get_config(preset: str | None = None, **overrides) -> ml_collections.ConfigDict:
    """``default_config()`` with a named preset's values, then ``overrides``, applied."""
    config = default_config()
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"unknown PPO preset {preset!r}; choose one of {sorted(PRESETS)}")
        config.update(dict(PRESETS[preset]))
    config.update(overrides)
    num_minibatches(config)  # validate
    return config


def num_minibatches(config: ml_collections.ConfigDict) -> int:
    """Minibatches per epoch; the rollout batch must split into whole minibatches."""
    batch = config.num_envs * config.horizon
    if config.minibatch_size <= 0 or batch % config.minibatch_size:
        raise ConfigError(
            f"num_envs * horizon = {config.num_envs} * {config.horizon} = {batch} transitions "
            f"do not split into minibatches of {config.minibatch_size} (set --num-envs, "
            "--set ppo.horizon=... or --set ppo.minibatch_size=... so that they do)"
        )
    return batch // config.minibatch_size


__all__ = ["PHC_HIDDEN", "PRESETS", "default_config", "get_config", "num_minibatches"]
