"""Applicant feature columns → the validated float64 matrix that predict_fn scores.

Each decoder reads a FeatureTable from its own format (JSON values, CSV cells); the checks every format shares —
required values present, optional ones defaulted, numbers finite, booleans 0/1, values inside the metadata's
[min, max] — run here on the whole table with numpy, not once per value. A valid table (the usual case) costs a
few array operations; only an invalid one is examined column by column to say which rows and fields are wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from handler.model.metadata import RESERVED_APPLICANT_FIELDS, FeatureSpec
from handler.problems import Problem

APPLICANT_ID = RESERVED_APPLICANT_FIELDS[0]  # the applicant field that is not a feature: echoed, never scored
NUMBER_PROBLEM = "must be a number"
BOOLEAN_PROBLEM = "must be a boolean: true/false or 1/0 (CSV also yes/no)"


@dataclass(frozen=True)
class FeatureTable:
    """Every applicant's features as a decoder read them: rows = applicants, columns = metadata order."""

    values: np.ndarray  # float64; anything where absent or unreadable
    absent: np.ndarray | None = None  # bool: no value given (missing key, JSON null, empty CSV cell); None: none
    unreadable: np.ndarray | None = None  # bool: a value of the wrong type ("abc" for a number); None: none


@dataclass(frozen=True)
class _Rules:
    """The metadata's checks as arrays, so a whole table is checked in a handful of numpy operations."""

    low: np.ndarray
    high: np.ndarray
    boolean: np.ndarray  # bool per feature
    required: np.ndarray  # bool per feature
    default: np.ndarray
    per_feature: tuple[tuple[float, float, bool], ...]  # (low, high, boolean): one applicant checks faster in Python


_RULES: dict[int, tuple[Sequence[FeatureSpec], _Rules]] = {}


def validated_features(specs: Sequence[FeatureSpec], table: FeatureTable) -> tuple[np.ndarray, list[Problem]]:
    """(the feature matrix, problems); the matrix is meaningless when there are problems."""
    rules = _rules(specs)
    values = table.values
    if table.absent is None and table.unreadable is None and _all_valid(values, rules):
        return values, []
    absent = np.zeros(values.shape, dtype=bool) if table.absent is None else table.absent
    unreadable = np.zeros(values.shape, dtype=bool) if table.unreadable is None else table.unreadable
    values = np.where(absent & ~rules.required, rules.default, values)
    problems: list[Problem] = []
    for position, spec in enumerate(specs):
        column, missing, wrong = values[:, position], absent[:, position], unreadable[:, position]
        if spec.required:
            problems += _problems("missing_field", missing, spec.name, "is required")
        problems += _problems("invalid_value", wrong, spec.name, _type_problem(spec))
        problems += _value_problems(spec, column, ~missing & ~wrong)
    return values, problems


def range_text(spec: FeatureSpec) -> str:
    """The allowed range of a number feature, as said in errors and docs."""
    low, high = spec.min, spec.max
    if low is not None and high is not None:
        return f"must be between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"must be at least {_number(low)}"
    return f"must be at most {_number(high)}"


def _all_valid(values: np.ndarray, rules: _Rules) -> bool:
    if len(values) == 1:  # the real-time request: plain Python beats the array operations (docs/performance.md)
        return all(
            low <= value <= high and (not boolean or value in (0.0, 1.0))  # NaN fails the range test
            for value, (low, high, boolean) in zip(values[0].tolist(), rules.per_feature, strict=True)
        )
    with np.errstate(invalid="ignore"):
        valid = (values >= rules.low) & (values <= rules.high)  # NaN and ±inf fail here
        if rules.boolean.any():
            valid &= ~rules.boolean | (values == 0) | (values == 1)
    return bool(valid.all())


def _rules(specs: Sequence[FeatureSpec]) -> _Rules:
    """Built once per metadata: cached by the identity of its (immutable) feature tuple — hashing it costs more."""
    cached = _RULES.get(id(specs))
    if cached is None or cached[0] is not specs:
        if len(_RULES) >= 8:
            _RULES.clear()
        cached = _RULES[id(specs)] = (specs, _build_rules(specs))
    return cached[1]


def _build_rules(specs: Sequence[FeatureSpec]) -> _Rules:
    largest = np.finfo(np.float64).max  # not inf: an infinite value must fail the range test
    low = np.array([-largest if spec.min is None else spec.min for spec in specs], dtype=np.float64)
    high = np.array([largest if spec.max is None else spec.max for spec in specs], dtype=np.float64)
    boolean = np.array([spec.type == "boolean" for spec in specs], dtype=bool)
    return _Rules(
        low=low,
        high=high,
        boolean=boolean,
        required=np.array([spec.required for spec in specs]),
        default=np.array([0.0 if spec.default is None else spec.default for spec in specs], dtype=np.float64),
        per_feature=tuple(zip(low.tolist(), high.tolist(), boolean.tolist(), strict=True)),
    )


def _type_problem(spec: FeatureSpec) -> str:
    return BOOLEAN_PROBLEM if spec.type == "boolean" else NUMBER_PROBLEM


def _value_problems(spec: FeatureSpec, values: np.ndarray, given: np.ndarray) -> list[Problem]:
    with np.errstate(invalid="ignore"):
        infinite = given & ~np.isfinite(values)
        finite = given & ~infinite
        if spec.type == "boolean":
            outside = finite & (values != 0) & (values != 1)
            return _problems("invalid_value", infinite | outside, spec.name, BOOLEAN_PROBLEM)
        outside = np.zeros(len(values), dtype=bool)
        if spec.min is not None:
            outside |= finite & (values < spec.min)
        if spec.max is not None:
            outside |= finite & (values > spec.max)
    return _problems("invalid_value", infinite, spec.name, "must be a finite number") + (
        _problems("out_of_range", outside, spec.name, range_text(spec)) if outside.any() else []
    )


def _problems(code: str, mask: np.ndarray, field: str, text: str) -> list[Problem]:
    return [Problem(code, int(row), field, text) for row in np.flatnonzero(mask)]


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


_NUMBER = re.compile(r"[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*", re.ASCII)


def read_number(cell: str) -> float | None:
    """A cell as a number, or None when it is not written as a decimal number (the slow path's rule)."""
    return float(cell) if _NUMBER.fullmatch(cell) else None
