"""What every command shares: the exit status of a user error and the printing of results."""

from __future__ import annotations

import json

EXIT_USER_ERROR = 2


def print_result(result: dict, as_json: bool) -> None:
    """A command's result dict: JSON, or one aligned ``key: value`` line per entry."""
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        width = max(map(len, result), default=0)
        print("\n".join(f"{k:>{width}}: {v}" for k, v in result.items()))


__all__ = ["EXIT_USER_ERROR", "print_result"]
