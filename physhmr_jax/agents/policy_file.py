"""Trained networks as one portable ``.npz``: named pytrees of arrays, a kind, a config.

The format every exported network shares (the expert, the student, the image encoder):
each pytree's leaves stored under ``<prefix><keystr(path)>``, and ``__meta__`` (UTF-8 JSON)
holding ``format_version``, ``kind`` and whatever the writer adds (its config above all),
so a file rebuilds its networks with nothing else beside it. Reading refuses, with one line
naming the file, what is not such a file, another format version, another kind, and arrays
whose names or shapes do not fit the networks the config builds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

from physhmr_jax.agents.run_dir import RunDirError
from physhmr_jax.npz_io import NPZ_READ_ERRORS

FORMAT_VERSION = 1
META = "__meta__"


def flatten(tree: Any, prefix: str) -> dict[str, np.ndarray]:
    """``{prefix + keystr(path): leaf}`` of a pytree of arrays."""
    return {prefix + jax.tree_util.keystr(p): np.asarray(x) for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def write(path: str | Path, kind: str, trees: Mapping[str, Any], meta: Mapping[str, Any]) -> dict:
    """Write ``trees`` ({prefix: pytree}) and ``meta`` as a ``kind`` file; returns a summary."""
    arrays: dict[str, np.ndarray] = {}
    for prefix, tree in trees.items():
        arrays.update(flatten(tree, prefix))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    full = {"format_version": FORMAT_VERSION, "kind": kind, **meta}
    tmp = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(tmp, **{META: np.frombuffer(json.dumps(full).encode(), np.uint8)}, **arrays)
    tmp.replace(path)  # a crash mid-write never leaves a truncated file under the real name
    return {"path": str(path), "bytes": path.stat().st_size, "arrays": len(arrays), "kind": kind}


def read(path: str | Path, kind: str | None) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the meta dict of a ``kind`` file (any kind when None), checked
    (module docstring). A file without ``kind`` (written before kinds existed) is an expert."""
    path = Path(path)
    try:
        f = np.load(path)
        if isinstance(f, np.ndarray):
            raise ValueError("a single .npy array, not an .npz")
        with f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(arrays.pop(META).tobytes().decode())
    # json.loads: RecursionError (nested too deeply; a RuntimeError); the rest: npz_io.
    except (*NPZ_READ_ERRORS, KeyError) as err:
        raise RunDirError(path, f"not an exported {kind or 'network'} ({err})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise RunDirError(path, f"not an exported {kind or 'network'} ('{META}' holds no config)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise RunDirError(
            path, f"format version {meta.get('format_version')} does not fit this code (it reads {FORMAT_VERSION})"
        )
    found = meta.setdefault("kind", "expert")
    if kind is not None and found != kind:
        raise RunDirError(path, f"an exported {found}, not an exported {kind}")
    return arrays, meta


def rebuild(template: Any, arrays: Mapping[str, np.ndarray], prefix: str, path: str | Path) -> Any:
    """``template``'s pytree (arrays or shape structs) filled from ``arrays[prefix + keystr]``,
    each checked for presence, shape and a numeric dtype, cast to the template's dtype."""
    leaves = []
    for p, leaf in jax.tree_util.tree_flatten_with_path(template)[0]:
        key = prefix + jax.tree_util.keystr(p)
        if key not in arrays or arrays[key].shape != leaf.shape or arrays[key].dtype.kind not in "biuf":
            got = f"{arrays[key].dtype} {arrays[key].shape}" if key in arrays else "missing"
            raise RunDirError(path, f"{key}: expected shape {leaf.shape} (numbers), got {got}")
        leaves.append(arrays[key].astype(leaf.dtype))
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(template), leaves)


__all__ = ["FORMAT_VERSION", "META", "flatten", "read", "rebuild", "write"]
