"""hyperparameters.json: SageMaker passes every value as a string; convert, range-check, refuse unknown keys."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from config.parsing import whole_in
from training.errors import TrainingError

# The SageMaker Python SDK adds its own sagemaker_* keys (job name, region, ...) for some estimators.
SAGEMAKER_PREFIX = "sagemaker_"
MAX_TEXT = 2500  # SageMaker's limit on one hyperparameter value
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class Hyperparameters:
    n_estimators: int = 200
    learning_rate: float = 0.1
    max_depth: int = 3
    min_samples_leaf: int = 20
    subsample: float = 1.0
    random_state: int = 0
    validation_fraction: float = 0.2  # hold-out share of train rows when there is no validation channel
    model_version: str | None = None  # None: derived from the training inputs' content
    data_description: str = ""  # free text recorded in model_metadata.json training_data

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Rule:
    parse: Callable[[str], Any]
    expected: str


def _whole(low: int, high: int) -> _Rule:
    return _Rule(whole_in(low, high), f"a whole number {low}-{high}")


def _real(low: float, high: float, *, low_open: bool = False) -> _Rule:
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            raise ValueError
        return value

    return _Rule(parse, f"a number in {'(' if low_open else '['}{low}, {high}]")


def _version(text: str) -> str:
    if not VERSION_PATTERN.fullmatch(text):
        raise ValueError
    return text


def _text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError
    return text


RULES: dict[str, _Rule] = {
    "n_estimators": _whole(1, 5000),
    "learning_rate": _real(0.0, 1.0, low_open=True),
    "max_depth": _whole(1, 12),
    "min_samples_leaf": _whole(1, 100_000),
    "subsample": _real(0.0, 1.0, low_open=True),
    "random_state": _whole(0, 2**32 - 1),
    "validation_fraction": _real(0.05, 0.5),
    "model_version": _Rule(_version, "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    "data_description": _Rule(_text, f"text of at most {MAX_TEXT} characters"),
}


def parse_hyperparameters(raw: Any) -> Hyperparameters:
    """Typed hyperparameters from the decoded JSON object; TrainingError names the first bad key."""
    if not isinstance(raw, dict):
        raise TrainingError("hyperparameters.json must hold a JSON object")
    unknown = sorted(key for key in raw if key not in RULES and not key.startswith(SAGEMAKER_PREFIX))
    if unknown:
        raise TrainingError(
            f"hyperparameters.json: unknown hyperparameter(s) {', '.join(unknown)}; known: {', '.join(RULES)}"
        )
    values: dict[str, Any] = {}
    for key, rule in RULES.items():
        if key not in raw:
            continue
        # Strings are the contract; plain JSON numbers are accepted for hand-written local files.
        text = raw[key] if isinstance(raw[key], str) else json.dumps(raw[key])
        try:
            values[key] = rule.parse(text.strip())
        except ValueError:
            raise TrainingError(f"hyperparameters.json: {key}={text!r} is invalid: expected {rule.expected}") from None
    return Hyperparameters(**values)


def read_hyperparameters(path: Path) -> Hyperparameters:
    """The job's hyperparameters; defaults when the file is absent (a local run without one)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Hyperparameters()
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainingError(f"hyperparameters.json is not valid UTF-8 JSON: {exc}") from None
    return parse_hyperparameters(raw)
