"""A model directory is served only when estimator, metadata and bundled catalogue agree."""

import json

import joblib
import pytest
from sklearn.linear_model import LinearRegression

from handler.artifact import load_artifact
from handler.errors import ArtifactError
from tests.support.artifacts import CARD_FEATURES, metadata_dict, write_artifact


@pytest.fixture
def model_dir(tmp_path):
    return write_artifact(tmp_path / "model")


def test_a_consistent_directory_loads(model_dir):
    artifact = load_artifact(model_dir)
    assert artifact.metadata.model_version == "test-1"
    assert artifact.bundled_catalog.source == "bundled"
    assert artifact.n_features == 16
    assert list(artifact.applicant_columns) == list(range(9))
    assert list(artifact.card_columns) == list(range(9, 16))
    assert artifact.estimator.classes_[artifact.positive_class] == 1


def test_columns_follow_feature_order_not_the_feature_lists(tmp_path):
    raw = metadata_dict()
    raw["feature_order"] = list(reversed(raw["feature_order"]))
    model_dir = write_artifact(tmp_path / "model", feature_order=raw["feature_order"])
    artifact = load_artifact(model_dir)
    assert list(artifact.applicant_columns) == list(range(15, 6, -1))


def test_missing_directory_and_files_are_named(tmp_path, model_dir):
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "nowhere")
    for name in ("card_variables.csv", "model.joblib", "model_metadata.json"):
        (model_dir / name).rename(tmp_path / name)
        with pytest.raises(ArtifactError, match=f"{name} is missing"):
            load_artifact(model_dir)
        (tmp_path / name).rename(model_dir / name)


def test_metadata_that_disagrees_with_the_estimator_is_rejected(model_dir):
    raw = json.loads((model_dir / "model_metadata.json").read_text())
    raw["card_features"].append({"name": "late_fee", "type": "number", "required": True})
    raw["feature_order"].append("late_fee")
    (model_dir / "model_metadata.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="expects 16 features but model_metadata.json lists 17"):
        load_artifact(model_dir)


def test_a_catalogue_without_a_card_feature_column_is_rejected(model_dir):
    name = CARD_FEATURES[2][0]
    lines = (model_dir / "card_variables.csv").read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index(name)
    kept = [",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines]
    (model_dir / "card_variables.csv").write_text("\n".join(kept))
    with pytest.raises(ArtifactError, match=f"bundled card_variables.csv.*lacks column.*{name}"):
        load_artifact(model_dir)


def test_unknown_schema_version_is_rejected(model_dir):
    raw = json.loads((model_dir / "model_metadata.json").read_text())
    raw["schema_version"] = 7
    (model_dir / "model_metadata.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="schema_version 7"):
        load_artifact(model_dir)


def test_estimators_that_cannot_give_approval_odds_are_rejected(model_dir):
    joblib.dump(LinearRegression().fit([[0.0] * 16, [1.0] * 16], [0, 1]), model_dir / "model.joblib")
    with pytest.raises(ArtifactError, match="no predict_proba"):
        load_artifact(model_dir)
    (model_dir / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ArtifactError, match="cannot be loaded"):
        load_artifact(model_dir)


def test_the_predictor_is_compiled_unless_sklearn_is_asked_for(model_dir):
    assert load_artifact(model_dir).predictor.kind == "pair-trees"
    assert load_artifact(model_dir, "onnxruntime").predictor.kind == "onnxruntime"
    assert load_artifact(model_dir, "sklearn").predictor.kind == "sklearn"
