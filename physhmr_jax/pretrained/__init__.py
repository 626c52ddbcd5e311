"""The shipped checkpoints: small CPU networks trained by this repository's own commands on
its embedded procedural motions (``README.md`` here says which command made each, on what
budget, and what it scores).

Commands that take a trained network default to these, so a fresh clone plays a video
without training anything (``physhmr reconstruct --video SHARD --out DIR``, ``physhmr demo``).
Each file is an ``agents.policy_file`` (format version, kind, config): loading one that does
not fit the code says so in one line naming the file.
"""

from __future__ import annotations

from pathlib import Path

from physhmr_jax.config_io import ConfigError

DIR = Path(__file__).resolve().parent
FILES = {
    "expert": DIR / "expert_procedural.npz",  # the teacher / the two-stage baseline's tracker
    "encoder": DIR / "encoder_procedural.npz",  # the frozen image encoder
    "student": DIR / "student_procedural.npz",  # the distilled vision policy
}


def path(kind: str) -> Path:
    """The shipped ``kind`` checkpoint (``expert``, ``encoder``, ``student``)."""
    if kind not in FILES:
        raise ConfigError(f"no shipped checkpoint of kind {kind!r}; kinds: {sorted(FILES)}")
    if not FILES[kind].is_file():
        raise ConfigError(
            f"the shipped {kind} checkpoint {FILES[kind]} is missing (see {DIR / 'README.md'} for the command "
            f"that makes it), or name a trained {kind} yourself"
        )
    return FILES[kind]


def or_shipped(given: str | Path | None, kind: str) -> str:
    """``given``, or the shipped ``kind`` checkpoint when it is None."""
    return str(given) if given is not None else str(path(kind))


__all__ = ["DIR", "FILES", "or_shipped", "path"]
