"""Configs on disk and from the command line: one style for every run.

Every config is an ``ml_collections.ConfigDict`` built by a ``default_config()`` beside the
thing it configures, holding only JSON types (numbers, strings, booleans, None, lists,
nested dicts): sequences are lists, never tuples, so a config written to ``config.json``
and read back equals the original (``tests/test_config_io.py``).

:func:`set_value` applies one ``--set section.name=value`` override and turns every way it
can go wrong into a :class:`ConfigError` whose message names the key, the value and what
was expected, for the CLI to print as one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import ml_collections


class ConfigError(ValueError):
    """A config entry that does not exist or a value of the wrong type."""


def from_dict(d: Mapping[str, Any]) -> ml_collections.ConfigDict:
    """A config from its JSON form (``config.to_dict()`` after a JSON round trip)."""
    return ml_collections.ConfigDict(dict(d))


def parse_value(text: str) -> Any:
    """A command-line value: JSON when it parses (``1e-4``, ``true``, ``[64, 64]``), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )


# Entries where None is meaningful: ``humanoid.contact_solref`` (None: derived from the timestep).
NULLABLE = frozenset({"contact_solref"})


def set_value(config: ml_collections.ConfigDict, dotted_name: str, value: Any) -> None:
    """``config.<dotted_name> = value`` with the entry's type kept (an int may become a float).

    Raises :class:`ConfigError` for an unknown entry or a value of another type.
    """
    *sections, name = dotted_name.split(".")
    node = config
    for i, part in enumerate(sections):
        if not isinstance(node, ml_collections.ConfigDict) or part not in node:
            raise ConfigError(f"--set {dotted_name}: no config section {'.'.join(sections[: i + 1])!r}")
        node = node[part]
    if not isinstance(node, ml_collections.ConfigDict) or name not in node:
        raise ConfigError(f"--set {dotted_name}: no such config entry")
    current = node[name]
    if isinstance(current, ml_collections.ConfigDict):
        raise ConfigError(f"--set {dotted_name}: is a section; set one of its entries ({', '.join(current)})")
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(current, list) and isinstance(value, list) and current and value:
        if isinstance(current[0], float) and all(isinstance(v, int | float) for v in value):
            value = [float(v) for v in value]
    # None (JSON null) is a value only for entries whose None means "derived" (NULLABLE).
    nullable = value is None and name in NULLABLE
    mismatch = current is not None and type(value) is not type(current) and not nullable
    if mismatch:
        raise ConfigError(
            f"--set {dotted_name}={json.dumps(value) if not isinstance(value, str) else value}: "
            f"expected {_type_name(current)} (like {json.dumps(current)}), got {_type_name(value)}"
        )
    node[name] = value


def set_values(config: ml_collections.ConfigDict, settings: Iterable[tuple[str, Any]]) -> None:
    """:func:`set_value` for each ``(dotted_name, value)`` in order (what repeated ``--set`` gives)."""
    for dotted_name, value in settings:
        set_value(config, dotted_name, value)


__all__ = ["NULLABLE", "ConfigError", "from_dict", "parse_value", "set_value", "set_values"]
