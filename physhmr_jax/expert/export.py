"""A trained expert's policy as one portable file, and back.

``physhmr export expert --run RUN --out POLICY.npz [--seed-index S]`` writes the policy
network's parameters and the observation normaliser of one seed (no critic, no optimiser,
no environments: a fraction of a checkpoint's size), its run config as JSON and a format
version. :func:`load_policy` rebuilds ``(networks, params, normalizer_params, config)``
from it; a file of another format version, or one whose shapes do not fit the config's
networks, is refused with one line naming the file.
"""

from __future__ import annotations

import types
from pathlib import Path

import jax

from physhmr_jax import config_io
from physhmr_jax.agents import policy_file, ppo, run_dir, runner
from physhmr_jax.envs import imitation, symmetry
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.expert.evaluate import restore_training_state

FORMAT_VERSION = policy_file.FORMAT_VERSION
KIND = "expert"
_POLICY = "policy:"
_NORMALIZER = "normalizer:"


def export_policy(out: str | Path, path: str | Path, *, seed_index: int = 0, iteration: int | None = None) -> dict:
    """Write seed ``seed_index``'s policy of run ``out`` to ``path`` (.npz); returns a summary."""
    config = expert_config.load_config(out)
    expert = build_expert(config)
    states = restore_training_state(out, expert, iteration=iteration)
    state = runner.unreplicate_seed(states, seed_index)
    return save_policy(path, config, state, seed_index=seed_index, run_dir=str(out))


def save_policy(path: str | Path, config, state: ppo.TrainingState, *, seed_index: int = 0, run_dir: str = "") -> dict:
    """Write one seed's ``state`` (policy and normaliser) with its expert ``config`` to ``path``."""
    meta = {"config": config.to_dict(), "iteration": int(state.iteration), "env_steps": int(state.env_steps),
            "seed_index": seed_index, "run_dir": run_dir}  # fmt: skip
    policy = ppo.policy_params(state)  # the weights' average where the run keeps one
    trees = {_POLICY: policy.params["policy"], _NORMALIZER: policy.normalizer_params}
    return {**policy_file.write(path, KIND, trees, meta), "iteration": meta["iteration"]}


def policy_sizes(config) -> types.SimpleNamespace:
    """The observation and action sizes of an expert ``config``'s networks, without building
    its humanoid or motions (what ``ppo.make_networks`` and ``ppo.init_training_state`` read)."""
    observation_size = imitation.observation_size(expert_config.env_config(config))
    return types.SimpleNamespace(observation_size=observation_size, action_size=imitation.ACTION_SIZE)


def policy_networks(config) -> ppo.PPONetworks:
    """The networks of an expert ``config``: symmetric under the imitation env's mirror maps
    where ``ppo.symmetric_networks`` says so."""
    mirror = symmetry.imitation_mirror(expert_config.env_config(config).num_future_frames)
    return ppo.make_networks(policy_sizes(config), expert_config.ppo_config(config), mirror)


def policy_meta(path: str | Path) -> dict:
    """The metadata of an exported policy: format version, config, iteration, seed, run directory."""
    return policy_file.read(path, KIND)[1]


def load_policy(path: str | Path):
    """``(networks, params, normalizer_params, config)`` of an exported policy.

    ``params`` holds ``{"policy": ...}`` (the critic is not exported); use it with
    ``networks.policy(params, normalizer_params, obs)``.
    """
    arrays, meta = policy_file.read(path, KIND)
    try:
        config = config_io.from_dict(meta["config"])
        ppo_config = expert_config.ppo_config(config)
        sizes = policy_sizes(config)
        networks = policy_networks(config)
        template = jax.eval_shape(lambda k: ppo.init_training_state(sizes, ppo_config, k), jax.random.PRNGKey(0))
    except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError) as err:  # a config they refuse
        raise run_dir.RunDirError(path, f"its config does not build a policy ({type(err).__name__}: {err})") from None

    params = {"policy": policy_file.rebuild(template.params["policy"], arrays, _POLICY, path)}
    normalizer = policy_file.rebuild(template.normalizer_params, arrays, _NORMALIZER, path)
    return networks, params, normalizer, config


__all__ = [
    "FORMAT_VERSION", "export_policy", "load_policy", "policy_meta", "policy_networks", "policy_sizes", "save_policy",
]  # fmt: skip
