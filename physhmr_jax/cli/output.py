"""What every command shares: the parser, the exit status of a user error, the checked
number types of options, and the printing of results."""

from __future__ import annotations

import argparse
import json
import sys

EXIT_USER_ERROR = 2


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``physhmr train expert: error: argument --seeds:
    expected an integer >= 1, got '0' (physhmr train expert --help lists the options)``."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} ({self.prog} --help lists the options)", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def _number(kind: type, minimum: float, strict: bool, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value != value or value < minimum or (strict and value == minimum):  # NaN, too small
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what
    return parse


positive_int = _number(int, 1, False, "an integer >= 1")
nonnegative_int = _number(int, 0, False, "an integer >= 0")
positive_float = _number(float, 0.0, True, "a number > 0")


def print_result(result: dict, as_json: bool) -> None:
    """A command's result dict: JSON, or one aligned ``key: value`` line per entry."""
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        width = max(map(len, result), default=0)
        print("\n".join(f"{k:>{width}}: {v}" for k, v in result.items()))


__all__ = ["EXIT_USER_ERROR", "Parser", "nonnegative_int", "positive_float", "positive_int", "print_result"]
