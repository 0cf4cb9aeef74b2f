"""application/json and application/jsonlines bodies → ScoringRequest.

Parsing uses the standard library's C decoder with two hooks: a repeated key in one object is an error (the
contract refuses to guess which value was meant), and NaN/Infinity are read as floats so that the field check
can say which applicant and field hold a non-finite number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from handler.codecs.options import RequestOptions, cards_option, reasons_option, top_k_option
from handler.errors import bad_request
from handler.model.features import APPLICANT_ID, FeatureTable, validated_features
from handler.model.metadata import ModelMetadata
from handler.model.request import ScoringRequest
from handler.problems import Problem, empty_request, reject

MANY, ONE = "applicants", "applicant"
DOCUMENT_KEYS = frozenset({MANY, ONE, "cards", "top_k", "reasons"})
SHAPE = 'a JSON object: {"applicants": [{...}, ...]} or {"applicant": {...}}'
ID_PROBLEM = "must be a string or an integer"
MAX_INTEGER_ID = 2**63 - 1  # integer ids are echoed back; larger ones do not survive every JSON client
JSON_WHITESPACE = " \t\r"
NUMBER_TYPES = frozenset({int, float})
BOOLEAN_TYPES = frozenset({bool, int, float})  # 0/1 are booleans too; other numbers fail the 0/1 check later


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=float)


def decode_json(text: str, metadata: ModelMetadata) -> ScoringRequest:
    document, problem = parse_json(text)
    if problem is not None:
        raise bad_request("invalid_json", f"the body {problem}")
    if not isinstance(document, dict):
        raise bad_request("invalid_json", f"the body must be {SHAPE}")
    unknown = sorted(document.keys() - DOCUMENT_KEYS)
    if unknown:
        raise reject([Problem("unknown_field", None, key, "is not a request field") for key in unknown])
    if MANY in document and ONE in document:
        raise bad_request("invalid_json", f"give either {MANY!r} or {ONE!r}, not both")
    applicants = document[MANY] if MANY in document else [document[ONE]] if ONE in document else []
    if not isinstance(applicants, list):
        raise bad_request("invalid_json", f"{MANY!r} must be a list of applicant objects")
    if not applicants:
        raise empty_request(f"the request holds no applicants; the body must be {SHAPE}")
    options = RequestOptions(
        cards=cards_option(document.get("cards")),
        top_k=top_k_option(document.get("top_k")),
        reasons=reasons_option(document.get("reasons")),
    )
    return applicants_request(applicants, metadata, options)


def decode_jsonlines(text: str, metadata: ModelMetadata) -> ScoringRequest:
    """One applicant object per non-empty line (CRLF accepted)."""
    applicants: list[Any] = []
    problems: list[Problem] = []
    for line in text.split("\n"):  # not splitlines(): U+2028 and friends may appear inside JSON strings
        line = line.strip(JSON_WHITESPACE)
        if not line:
            continue
        applicant, problem = parse_json(line)
        if problem is not None:
            problems.append(Problem("invalid_json", len(applicants), None, f"the line {problem}"))
        applicants.append(applicant)
    if problems:
        raise reject(problems)
    if not applicants:
        raise empty_request("the request holds no applicants: send one JSON object per line")
    return applicants_request(applicants, metadata, RequestOptions())


def parse_json(text: str) -> tuple[Any, str | None]:
    """(value, None), or (None, what is wrong) — completing "the body ..." — for text that is not valid JSON."""
    try:
        return _DECODER.decode(text), None
    except _RepeatedKey as exc:
        return None, f"repeats the key {exc.key!r} in one object"
    except json.JSONDecodeError as exc:
        return None, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        return None, "is not valid JSON: nested too deeply"
    except ValueError:  # int() refuses numbers of more than 4300 digits
        return None, "is not valid JSON: a number has too many digits"


def applicants_request(applicants: Sequence[Any], metadata: ModelMetadata, options: RequestOptions) -> ScoringRequest:
    """Decoded applicant objects → a validated request; every row's problems are reported together."""
    names = metadata.applicant_feature_names
    allowed = {*names, APPLICANT_ID}
    problems = [
        Problem("invalid_json", row, None, "must be a JSON object of applicant fields")
        for row, applicant in enumerate(applicants)
        if not isinstance(applicant, dict)
    ]
    if problems:
        raise reject(problems)
    for row, applicant in enumerate(applicants):
        if applicant.keys() - allowed:
            problems += [
                Problem("unknown_field", row, key, "is not a feature of this model")
                for key in sorted(applicant.keys() - allowed)
            ]
    ids = [applicant.get(APPLICANT_ID) for applicant in applicants]
    problems += _id_problems(ids)
    features, feature_problems = validated_features(metadata.applicant_features, _table(applicants, metadata))
    problems += feature_problems
    if problems:
        raise reject(problems)
    return ScoringRequest(
        applicant_ids=ids, features=features, cards=options.cards, top_k=options.top_k, reasons=options.reasons
    )


def _id_problems(ids: list[Any]) -> list[Problem]:
    if set(map(type, ids)) <= {str, type(None)} and _encodable([value for value in ids if value is not None]):
        return []
    return [
        Problem("invalid_value", row, APPLICANT_ID, _id_problem(value))
        for row, value in enumerate(ids)
        if not (value is None or (type(value) is str and _encodable([value])) or _is_id_integer(value))
    ]


def _encodable(texts: list[str]) -> bool:
    """False when a text holds a lone surrogate (JSON allows the escape "\\ud800"; UTF-8 cannot carry it back)."""
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_id_integer(value: Any) -> bool:
    return type(value) is int and abs(value) <= MAX_INTEGER_ID


def _id_problem(value: Any) -> str:
    return "must be valid Unicode text (no lone surrogate escapes)" if type(value) is str else ID_PROBLEM


def _table(applicants: Sequence[dict[str, Any]], metadata: ModelMetadata) -> FeatureTable:
    """The feature values as a float table; one numpy call when every value has an acceptable type."""
    specs = metadata.applicant_features
    raw = [[applicant.get(spec.name) for spec in specs] for applicant in applicants]
    accepted = [BOOLEAN_TYPES if spec.type == "boolean" else NUMBER_TYPES for spec in specs]
    kinds = [{type(row[position]) for row in raw} for position in range(len(specs))]
    if all(found <= allowed for found, allowed in zip(kinds, accepted, strict=True)):
        try:
            return FeatureTable(np.array(raw, dtype=np.float64))
        except OverflowError:  # an integer beyond float range: mark it below
            pass
    return _checked_table(raw, accepted)


def _checked_table(raw: list[list[Any]], accepted: list[frozenset[type]]) -> FeatureTable:
    """Value by value: absent (missing or null), unreadable (wrong type), or a float (inf if it overflows)."""
    typed = [[type(value) in kinds for value, kinds in zip(row, accepted, strict=True)] for row in raw]
    values = [
        [_float(value) if ok else 0.0 for value, ok in zip(row, oks, strict=True)]
        for row, oks in zip(raw, typed, strict=True)
    ]
    absent = np.array([[value is None for value in row] for row in raw])
    return FeatureTable(np.array(values, dtype=np.float64), absent, ~np.array(typed) & ~absent)


def _float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf")  # reported as "must be a finite number"
