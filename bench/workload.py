"""The bench's request bodies: synthetic applicants with realistic values inside the model metadata's ranges."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from config.settings import CSV, JSON
from handler.model.metadata import FeatureSpec, ModelMetadata

# Plausible distributions for the demo model's applicant features (clipped to the metadata's range afterwards);
# any other numeric feature is drawn uniformly inside its range.
Sampler = Callable[[np.random.Generator, int], np.ndarray]
REALISTIC: dict[str, Sampler] = {
    "derogatory_reports": lambda rng, n: rng.poisson(0.4, n),
    "age": lambda rng, n: rng.integers(21, 76, n),
    "annual_income": lambda rng, n: np.round(rng.lognormal(np.log(55_000), 0.6, n), -2),
    "dependents": lambda rng, n: rng.poisson(1.0, n),
    "months_at_address": lambda rng, n: rng.integers(1, 241, n),
    "major_cards": lambda rng, n: rng.poisson(2.0, n),
    "active_accounts": lambda rng, n: rng.poisson(6.0, n),
}


@dataclass(frozen=True)
class RequestType:
    """One kind of request the bench sends: a fixed body with its headers."""

    name: str
    description: str
    body: bytes
    content_type: str
    accept: str
    applicants: int
    ours_only: bool = False  # a feature the reference and ceiling servers do not have (reason codes)


def feature_columns(metadata: ModelMetadata, n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """n values per applicant feature (metadata order); booleans as 0/1, counts as integers, all within range."""
    rng = np.random.default_rng(seed)
    return {spec.name: _column(spec, rng, n) for spec in metadata.applicant_features}


def _column(spec: FeatureSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    if spec.type == "boolean":
        return (rng.random(n) < 0.3).astype(np.int64)
    low = spec.min if spec.min is not None else 0.0
    high = spec.max if spec.max is not None else low + 100.0
    sampler = REALISTIC.get(spec.name)
    values = sampler(rng, n) if sampler is not None else rng.uniform(low, high, n).round(2)
    return np.clip(values, low, high)


def csv_body(metadata: ModelMetadata, n: int, seed: int = 7) -> bytes:
    """n header-less CSV lines, columns in metadata order (vectorised: 100,000 lines in well under a second)."""
    columns = feature_columns(metadata, n, seed)
    table = np.column_stack([_as_text(values) for values in columns.values()])
    return "\n".join(",".join(row) for row in table.tolist()).encode() + b"\n"


def _as_text(values: np.ndarray) -> np.ndarray:
    integral = np.all(values == np.floor(values))
    return values.astype(np.int64).astype(str) if integral else values.astype(str)


def json_applicants(metadata: ModelMetadata, n: int, seed: int = 7) -> list[dict[str, object]]:
    columns = feature_columns(metadata, n, seed)
    booleans = {spec.name for spec in metadata.applicant_features if spec.type == "boolean"}
    applicants: list[dict[str, object]] = []
    for i in range(n):
        applicant: dict[str, object] = {"applicant_id": f"a-{i + 1}"}
        for name, values in columns.items():
            value = values[i].item()
            applicant[name] = bool(value) if name in booleans else value
        applicants.append(applicant)
    return applicants


def request_types(metadata: ModelMetadata) -> list[RequestType]:
    """The three request shapes of issue 7's table, and issue 12's: the JSON one with 4 reason codes per card."""
    one = json_applicants(metadata, 1)
    return [
        RequestType("json-1", "1 applicant x all cards, JSON", json.dumps({"applicants": one}).encode(), JSON, JSON, 1),
        RequestType(
            "json-1-reasons",
            "the same with reasons=4",
            json.dumps({"applicants": one, "reasons": 4}).encode(),
            JSON,
            JSON,
            1,
            ours_only=True,
        ),
        RequestType("csv-50", "50 applicants, CSV", csv_body(metadata, 50), CSV, CSV, 50),
        RequestType("csv-1000", "1,000-line batch, CSV", csv_body(metadata, 1000), CSV, CSV, 1000),
    ]
