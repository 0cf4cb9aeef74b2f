"""A model directory is served only when estimator, metadata and bundled catalogue agree."""

import json
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LinearRegression

from handler.model import predictor as predictor_module
from handler.model.artifact import load_artifact
from handler.model.errors import ArtifactError
from handler.model.verdicts import VERDICT_FILE
from tests.support.artifacts import CARD_FEATURES, catalog_csv, metadata_dict, pair_rows, write_artifact


@pytest.fixture
def model_dir(tmp_path):
    return write_artifact(tmp_path / "model")


def test_a_consistent_directory_loads(model_dir):
    artifact = load_artifact(model_dir)
    assert artifact.metadata.model_version == "test-1"
    assert artifact.bundled_catalog.source == "bundled"
    assert artifact.estimator.n_features_in_ == len(artifact.metadata.feature_order) == 16
    assert list(artifact.applicant_columns) == list(range(9))
    assert list(artifact.card_columns) == list(range(9, 16))
    assert list(artifact.estimator.classes_) == [0, 1]  # predict_proba's column 1 is "approved"


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
    raw["card_features"].append({"name": "late_fee", "type": "number", "required": True, "min": 0, "max": 50})
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


def fit_on_frame(model_dir, columns):
    """Replace the directory's estimator by one fitted on a pandas DataFrame with the given column order."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.random((600, len(columns))), columns=columns)
    approved = (frame["annual_income"] - frame["min_income"] + 0.2 * rng.standard_normal(600) > 0).astype(int)
    estimator = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0).fit(frame, approved)
    joblib.dump(estimator, model_dir / "model.joblib")
    return estimator, frame


def test_an_estimator_fitted_on_columns_in_another_order_is_refused(model_dir):
    order = metadata_dict()["feature_order"]
    swapped = [order[2], order[1], order[0], *order[3:]]
    fit_on_frame(model_dir, swapped)
    with pytest.raises(ArtifactError) as refused:
        load_artifact(model_dir)
    assert str(refused.value) == (
        "model.joblib was fitted on columns named in another order than model_metadata.json feature_order: "
        "column 0 is 'annual_income' in the estimator but 'derogatory_reports' in feature_order; refit with the "
        "columns in feature_order's order, or list feature_order as the estimator's feature_names_in_"
    )


@pytest.mark.parametrize("engine", ["pair-trees", "onnxruntime", "sklearn"])
def test_an_estimator_fitted_on_a_frame_in_feature_order_serves_its_own_odds(model_dir, engine):
    estimator, frame = fit_on_frame(model_dir, metadata_dict()["feature_order"])
    expected = estimator.predict_proba(frame)[:, 1]  # with its column names, as the data scientist sees it
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names" on every call
        artifact = load_artifact(model_dir, engine)
        assert artifact.predictor.kind == engine
        served = artifact.predictor.approval_odds(frame.to_numpy())
        grid = artifact.predictor.grid_odds(
            frame.to_numpy()[:, artifact.applicant_columns],
            artifact.bundled_catalog.features,
            np.arange(len(artifact.bundled_catalog.features)),
        )
    assert np.array_equal(served, expected)
    pairs = pair_rows(artifact, frame.to_numpy()[:, artifact.applicant_columns], artifact.bundled_catalog.features)
    assert np.array_equal(grid.reshape(-1), estimator.predict_proba(pd.DataFrame(pairs, columns=frame.columns))[:, 1])


@pytest.mark.parametrize("bound", [None, 1e39])
def test_a_number_feature_without_float32_bounds_is_refused(model_dir, bound):
    raw = json.loads((model_dir / "model_metadata.json").read_text())
    raw["applicant_features"][2]["max"] = bound
    (model_dir / "model_metadata.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="'annual_income' needs a finite 'max' within float32's range"):
        load_artifact(model_dir)


@pytest.fixture
def checks(monkeypatch):
    """One entry per engine check load_artifact runs against scikit-learn (each draws its validation rows once)."""
    drawn = []
    real = predictor_module.validation_rows
    monkeypatch.setattr(predictor_module, "validation_rows", lambda *args: drawn.append(1) or real(*args))
    return drawn


def test_a_verdict_reached_on_this_host_spares_the_next_process_the_check(model_dir, tmp_path, checks):
    verdicts = tmp_path / "control"
    assert load_artifact(model_dir, verdicts=verdicts).predictor.kind == "pair-trees"
    assert len(checks) == 1
    assert json.loads((verdicts / VERDICT_FILE).read_text())["engine"] == "pair-trees"
    again = load_artifact(model_dir, verdicts=verdicts)  # what each MMS worker does after the launcher
    assert again.predictor.kind == "pair-trees" and len(checks) == 1
    load_artifact(model_dir, "onnxruntime", verdicts=verdicts)  # another engine asked
    assert len(checks) == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda model, verdicts: (model / "card_variables.csv").write_bytes(catalog_csv(5)), id="artefact"),
        pytest.param(lambda model, verdicts: (verdicts / VERDICT_FILE).write_text("{not json"), id="broken file"),
        pytest.param(lambda model, verdicts: (verdicts / VERDICT_FILE).unlink(), id="no file"),
    ],
)
def test_a_verdict_for_anything_else_is_not_trusted(model_dir, tmp_path, change, checks):
    verdicts = tmp_path / "control"
    load_artifact(model_dir, verdicts=verdicts)
    change(model_dir, verdicts)
    checks.clear()
    load_artifact(model_dir, verdicts=verdicts)
    assert len(checks) == 1


def test_a_verdict_that_cannot_be_kept_only_costs_time(model_dir, tmp_path):
    occupied = tmp_path / "file"
    occupied.write_text("not a directory")
    assert load_artifact(model_dir, verdicts=occupied).predictor.kind == "pair-trees"
