"""Batch transform test data: many valid applicants as CSV or JSON Lines, and their odds scored in-process."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from handler.model.artifact import Artifact
from handler.model.request import ScoringRequest
from handler.model.scoring import score

# Three demo cards in NON-catalogue order: CSV columns still come in catalogue order.
DEFAULT_CARDS = ("travel-elite", "secured-starter", "cash-plus")
CSV_TOLERANCE = 5.1e-7  # CSV odds have 6 decimals


def batch_env(demo_model: Path, **settings: str) -> dict[str, str]:
    """A batch transform server (SAGEMAKER_BATCH) on the demo model, scoring DEFAULT_CARDS: few cards keep
    multi-MB requests to seconds. One env for every module that can share it: each distinct env is a restart."""
    return {
        "MODEL_DIR": str(demo_model),
        "SAGEMAKER_BATCH": "true",
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": "40",
        "DEFAULT_CARDS": ",".join(DEFAULT_CARDS),
        **settings,
    }


# Distinct applicants in a large test table: its expected odds cost this many in-process scorings, not millions.
# Prime, so no MMS or decoder chunk boundary lines up with the repetition.
PERIOD = 9973


def applicant_table(n: int, seed: int = 0) -> np.ndarray:
    """n valid applicants, features in the demo model's metadata order, whole numbers (as CSV writes them)."""
    rng = np.random.default_rng(seed)
    columns = [
        rng.integers(0, 5, n),  # derogatory_reports
        rng.integers(18, 101, n),  # age
        rng.integers(0, 400, n) * 500,  # annual_income
        rng.integers(0, 2, n),  # home_owner
        rng.integers(0, 2, n),  # self_employed
        rng.integers(0, 6, n),  # dependents
        rng.integers(0, 1201, n),  # months_at_address
        rng.integers(0, 21, n),  # major_cards
        rng.integers(0, 201, n),  # active_accounts
    ]
    return np.column_stack(columns).astype(np.float64)


def repeating_table(n: int, seed: int = 0) -> np.ndarray:
    """n applicants cycling through PERIOD distinct ones (see scored_repeating)."""
    distinct = applicant_table(min(n, PERIOD), seed)
    return np.resize(distinct, (n, distinct.shape[1]))


def csv_lines(table: np.ndarray, names: Sequence[str], header: bool = False, newline: str = "\n") -> bytes:
    """One line per applicant; with a header the columns are reversed (matched by name, not position)."""
    order = list(reversed(range(len(names)))) if header else list(range(len(names)))
    line = ",".join(["%d"] * len(names))  # one format per line: millions of lines in seconds
    lines = [",".join(names[i] for i in order)] if header else []
    lines += [line % tuple(row) for row in table[:, order].astype(np.int64).tolist()]
    return (newline.join(lines) + newline).encode()


def jsonl_lines(table: np.ndarray, names: Sequence[str], newline: str = "\n") -> bytes:
    rows = table.astype(np.int64).tolist()
    return "".join(json.dumps(dict(zip(names, row, strict=True))) + newline for row in rows).encode()


def scored(artifact: Artifact, table: np.ndarray, cards: Sequence[str] = DEFAULT_CARDS) -> np.ndarray:
    """In-process odds of the same applicants for `cards` (columns in catalogue order, as the server answers)."""
    request = ScoringRequest(applicant_ids=[None] * len(table), features=table, cards=tuple(cards))
    return score(artifact, artifact.bundled_catalog, request, None).odds


def scored_repeating(artifact: Artifact, table: np.ndarray, cards: Sequence[str] = DEFAULT_CARDS) -> np.ndarray:
    """scored() of a repeating_table, computed once per distinct applicant."""
    distinct = scored(artifact, table[: min(len(table), PERIOD)], cards)
    return np.resize(distinct, (len(table), distinct.shape[1]))


def csv_odds(body: bytes) -> np.ndarray:
    """A CSV response (or .out file) as a matrix; every line must hold the same number of values."""
    lines = body.split(b"\n")
    width = lines[0].count(b",") + 1
    return np.array(b",".join(lines).split(b","), dtype=np.float64).reshape(len(lines), width)
