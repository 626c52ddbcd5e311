"""A trained expert's policy as one portable file, and back.

``physhmr export expert --run RUN --out POLICY.npz [--seed-index S]`` writes the policy
network's parameters and the observation normaliser of one seed (no critic, no optimiser,
no environments: a fraction of a checkpoint's size), its run config as JSON and a format
version. :func:`load_policy` rebuilds ``(networks, params, normalizer_params, config)``
from it; a file of another format version, or one whose shapes do not fit the config's
networks, is refused with one line naming the file.
"""

from __future__ import annotations

import json
import types
import zipfile
import zlib
from pathlib import Path

import jax
import numpy as np

from physhmr_jax import config_io
from physhmr_jax.agents import ppo, run_dir, runner
from physhmr_jax.envs import imitation
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.expert.evaluate import restore_training_state

FORMAT_VERSION = 1
_POLICY = "policy:"
_NORMALIZER = "normalizer:"


def _flat(tree, prefix: str) -> dict[str, np.ndarray]:
    return {prefix + jax.tree_util.keystr(p): np.asarray(x) for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def export_policy(out: str | Path, path: str | Path, *, seed_index: int = 0, iteration: int | None = None) -> dict:
    """Write seed ``seed_index``'s policy of run ``out`` to ``path`` (.npz); returns a summary."""
    config = expert_config.load_config(out)
    expert = build_expert(config)
    states = restore_training_state(out, expert, iteration=iteration)
    state = runner.unreplicate_seed(states, seed_index)
    return save_policy(path, config, state, seed_index=seed_index, run_dir=str(out))


def save_policy(path: str | Path, config, state: ppo.TrainingState, *, seed_index: int = 0, run_dir: str = "") -> dict:
    """Write one seed's ``state`` (policy and normaliser) with its expert ``config`` to ``path``."""
    arrays = {**_flat(state.params["policy"], _POLICY), **_flat(state.normalizer_params, _NORMALIZER)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format_version": FORMAT_VERSION, "config": config.to_dict(), "iteration": int(state.iteration),
            "seed_index": seed_index, "run_dir": run_dir}  # fmt: skip
    np.savez_compressed(path, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    return {"path": str(path), "bytes": path.stat().st_size, "arrays": len(arrays), "iteration": meta["iteration"]}


def policy_sizes(config) -> types.SimpleNamespace:
    """The observation and action sizes of an expert ``config``'s networks, without building
    its humanoid or motions (what ``ppo.make_networks`` and ``ppo.init_training_state`` read)."""
    observation_size = imitation.observation_size(expert_config.env_config(config))
    return types.SimpleNamespace(observation_size=observation_size, action_size=imitation.ACTION_SIZE)


def _read(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the ``__meta__`` dict of an exported policy file, checked."""
    path = Path(path)
    try:
        f = np.load(path)
        if isinstance(f, np.ndarray):
            raise ValueError("a single .npy array, not an .npz")
        with f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    # A damaged zip: RuntimeError (a member flagged encrypted; NotImplementedError: an unknown
    # compression); json.loads: RecursionError (nested too deeply).
    except (OSError, ValueError, KeyError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error) as err:
        raise run_dir.RunDirError(path, f"not an exported policy ({err})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise run_dir.RunDirError(path, "not an exported policy ('__meta__' holds no config)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise run_dir.RunDirError(
            path, f"format version {meta.get('format_version')} does not fit this code (it reads {FORMAT_VERSION})"
        )
    return arrays, meta


def policy_meta(path: str | Path) -> dict:
    """The metadata of an exported policy: format version, config, iteration, seed, run directory."""
    return _read(path)[1]


def load_policy(path: str | Path):
    """``(networks, params, normalizer_params, config)`` of an exported policy.

    ``params`` holds ``{"policy": ...}`` (the critic is not exported); use it with
    ``networks.policy(params, normalizer_params, obs)``.
    """
    arrays, meta = _read(path)
    try:
        config = config_io.from_dict(meta["config"])
        ppo_config = expert_config.ppo_config(config)
        sizes = policy_sizes(config)
        networks = ppo.make_networks(sizes, ppo_config)
        template = jax.eval_shape(lambda k: ppo.init_training_state(sizes, ppo_config, k), jax.random.PRNGKey(0))
    except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError) as err:  # a config they refuse
        raise run_dir.RunDirError(path, f"its config does not build a policy ({type(err).__name__}: {err})") from None

    def rebuild(tree, prefix):
        leaves = []
        for p, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
            key = prefix + jax.tree_util.keystr(p)
            if key not in arrays or arrays[key].shape != leaf.shape or arrays[key].dtype.kind not in "biuf":
                got = f"{arrays[key].dtype} {arrays[key].shape}" if key in arrays else "missing"
                raise run_dir.RunDirError(path, f"{key}: expected shape {leaf.shape} (numbers), got {got}")
            leaves.append(arrays[key].astype(leaf.dtype))
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(tree), leaves)

    params = {"policy": rebuild(template.params["policy"], _POLICY)}
    normalizer = rebuild(template.normalizer_params, _NORMALIZER)
    return networks, params, normalizer, config


__all__ = ["FORMAT_VERSION", "export_policy", "load_policy", "policy_meta", "policy_sizes", "save_policy"]
