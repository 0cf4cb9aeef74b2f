"""The artefact written by training is exactly what the server's loader accepts."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from handler.model.artifact import load_artifact
from training.artifact_writer import write_artifact
from training.cards import BUNDLED_CARDS
from training.errors import TrainingError
from training.features import schema_metadata

METADATA = replace(
    schema_metadata(),
    model_version="test-1",
    created_at="2026-11-25T09:00:00+00:00",
    sklearn_version="1.9.1",
    metrics={"auc": 0.9},
    training_data={"description": "unit test"},
)


def estimator(features: int) -> GradientBoostingClassifier:
    rng = np.random.default_rng(0)
    matrix = rng.random((40, features))
    return GradientBoostingClassifier(n_estimators=3).fit(matrix, (matrix[:, 0] > 0.5).astype(int))


def test_the_three_files_are_written_and_load_as_a_servable_artefact(tmp_path):
    artifact = write_artifact(tmp_path / "model", estimator(16), METADATA, BUNDLED_CARDS.read_bytes())

    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == [
        "card_variables.csv",
        "model.joblib",
        "model_metadata.json",
    ]
    assert artifact.metadata == METADATA
    assert json.loads((tmp_path / "model" / "model_metadata.json").read_text())["schema_version"] == 1
    assert (tmp_path / "model" / "card_variables.csv").read_bytes() == BUNDLED_CARDS.read_bytes()
    assert len(load_artifact(tmp_path / "model").metadata.feature_order) == 16


def test_an_estimator_that_disagrees_with_the_metadata_is_never_shipped_silently(tmp_path):
    with pytest.raises(TrainingError, match="^the written artefact does not load: model.joblib expects 5 features"):
        write_artifact(tmp_path / "model", estimator(5), METADATA, BUNDLED_CARDS.read_bytes())


def test_an_estimator_fitted_on_a_frame_in_another_column_order_is_never_shipped(tmp_path):
    import pandas as pd

    names = list(reversed(METADATA.feature_order))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((40, len(names))), columns=names)
    fitted = GradientBoostingClassifier(n_estimators=3).fit(frame, (frame[names[0]] > 0.5).astype(int))
    with pytest.raises(TrainingError, match="^the written artefact does not load: model.joblib was fitted on columns"):
        write_artifact(tmp_path / "model", fitted, METADATA, BUNDLED_CARDS.read_bytes())
