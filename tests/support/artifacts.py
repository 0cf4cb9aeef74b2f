"""Small, fast model artefacts with the demo model's schema, for tests that must not wait for the demo build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import GradientBoostingClassifier

from handler.model.artifact import Artifact
from handler.model.metadata import ModelMetadata
from handler.model.predictor import PairLayout

APPLICANT_FEATURES = [
    ("derogatory_reports", "number", 0, 50),
    ("age", "number", 18, 100),
    ("annual_income", "number", 0, 10_000_000),
    ("home_owner", "boolean", None, None),
    ("self_employed", "boolean", None, None),
    ("dependents", "number", 0, 20),
    ("months_at_address", "number", 0, 1200),
    ("major_cards", "number", 0, 20),
    ("active_accounts", "number", 0, 200),
]
CARD_FEATURES = [
    ("annual_fee", "number", 0, 1000),
    ("purchase_apr", "number", 0, 40),
    ("min_income", "number", 0, 1_000_000),
    ("credit_tier", "number", 1, 5),
    ("rewards_rate", "number", 0, 10),
    ("is_secured", "boolean", None, None),
    ("is_student", "boolean", None, None),
]
CATALOG_HEADER = "card_id,card_name,active," + ",".join(name for name, *_ in CARD_FEATURES)


def metadata_dict(**overrides: Any) -> dict[str, Any]:
    def spec(name: str, kind: str, low: float | None, high: float | None) -> dict[str, Any]:
        return {"name": name, "type": kind, "required": True, "min": low, "max": high, "description": name}

    raw = {
        "schema_version": 1,
        "model_version": "test-1",
        "created_at": "2026-11-25T00:00:00Z",
        "sklearn_version": sklearn.__version__,
        "applicant_features": [spec(*feature) for feature in APPLICANT_FEATURES],
        "card_features": [spec(*feature) for feature in CARD_FEATURES],
        "feature_order": [name for name, *_ in APPLICANT_FEATURES + CARD_FEATURES],
        "card_id_column": "card_id",
        "metrics": {},
        "training_data": {"description": "synthetic test data"},
    }
    raw.update(overrides)
    return raw


def metadata(**overrides: Any) -> ModelMetadata:
    return ModelMetadata.from_dict(metadata_dict(**overrides))


def catalog_row(index: int, active: str = "yes", card_id: str | None = None) -> str:
    card = card_id if card_id is not None else f"card-{index:02d}"
    fee, apr, income = index * 10 % 700, 15 + index % 10, index * 1000 % 90_000
    return f"{card},Card {index},{active},{fee},{apr},{income},{1 + index % 5},{index % 4},{int(index % 7 == 0)},0"


def catalog_csv(n_cards: int = 6, inactive: tuple[int, ...] = ()) -> bytes:
    rows = [catalog_row(i, "no" if i in inactive else "yes") for i in range(n_cards)]
    return ("\n".join([CATALOG_HEADER, *rows]) + "\n").encode()


def applicant(**overrides: float) -> dict[str, float]:
    values = {
        "derogatory_reports": 0,
        "age": 35,
        "annual_income": 52_000,
        "home_owner": 1,
        "self_employed": 0,
        "dependents": 1,
        "months_at_address": 40,
        "major_cards": 1,
        "active_accounts": 6,
    }
    values.update(overrides)
    return values


def write_artifact(directory: Path, n_cards: int = 6, seed: int = 0, **metadata_overrides: Any) -> Path:
    """A model directory load_artifact accepts: a 20-tree GBM on synthetic pairs, its metadata and catalogue."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_features = len(APPLICANT_FEATURES) + len(CARD_FEATURES)
    features = rng.random((600, n_features))
    approved = (features[:, 2] - features[:, 11] + 0.2 * rng.standard_normal(600) > 0).astype(int)
    estimator = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=seed).fit(features, approved)
    joblib.dump(estimator, directory / "model.joblib")
    (directory / "model_metadata.json").write_text(json.dumps(metadata_dict(**metadata_overrides)))
    (directory / "card_variables.csv").write_bytes(catalog_csv(n_cards))
    return directory


def pair_rows(artifact: Artifact, applicants: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """The estimator's input for every applicant x card pair (applicant-major), as every engine builds it."""
    return PairLayout(artifact.applicant_columns, artifact.card_columns).pairs(applicants, cards)
