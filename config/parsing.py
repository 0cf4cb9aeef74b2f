"""Text → value rules shared by the settings, the request options, the catalogue, training and the command-line tools.

Each parser raises ValueError (or, for booleans, returns None) and knows nothing of where the text came from: the
caller wraps a refusal in its own error (SettingsError, a 400 naming the field, TrainingError, argparse's usage line).
No imports from the rest of the repository: every layer may use this module.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeGuard, TypeVar

T = TypeVar("T")

TRUE_WORDS = frozenset({"1", "true", "yes"})
FALSE_WORDS = frozenset({"0", "false", "no"})


def parse_boolean(text: str) -> bool | None:
    """The contract's boolean spellings (1/0, true/false, yes/no, any case); None if it is none of them."""
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def is_whole_in(value: object, low: int, high: int) -> TypeGuard[int]:
    """A decoded JSON value that is an integer from low to high; booleans, fractions (even 2.0) and strings are not."""
    return type(value) is int and low <= value <= high


def whole_in(low: int, high: int) -> Callable[[str], int]:
    """A parser of a whole number from low to high written as text (as Python's int() reads it)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if not is_whole_in(value, low, high):
            raise ValueError(f"{text!r} is not a whole number from {low} to {high}")
        return value

    return parse


def argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """`parse` as an argparse `type=`: its ValueError's message becomes the usage error (argparse would drop it)."""

    def convert(raw: str) -> T:
        try:
            return parse(raw)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert
