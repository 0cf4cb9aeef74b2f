"""`python -m training.demo_model`: the demo artefact, built by the real trainer from the seeded demo data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handler.model.artifact import load_artifact
from tests.support.artifacts import pair_rows
from training.demo_model import build, main


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "demo-model"
    assert build(out) == 0
    return out


def some_applicants() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.column_stack(
        [
            rng.integers(0, 4, 50),
            rng.uniform(18, 80, 50),
            rng.uniform(5_000, 200_000, 50),
            rng.integers(0, 2, 50),
            rng.integers(0, 2, 50),
            rng.integers(0, 5, 50),
            rng.integers(0, 300, 50),
            rng.integers(0, 3, 50),
            rng.integers(0, 30, 50),
        ]
    ).astype(np.float64)


def predictions(model_dir: Path) -> np.ndarray:
    artifact = load_artifact(model_dir)
    pairs = pair_rows(artifact, some_applicants(), artifact.bundled_catalog.features)
    return artifact.estimator.predict_proba(pairs)[:, 1]


def test_the_demo_artefact_loads_and_its_hold_out_auc_is_above_075(demo_dir):
    artifact = load_artifact(demo_dir)
    metrics = artifact.metadata.metrics
    assert metrics["auc"] > 0.75
    assert 0 < metrics["log_loss"] < 0.5
    assert len(metrics["calibration_by_decile"]) == 10
    assert metrics["holdout_rows"] > 2000
    assert "AER::CreditCard" in artifact.metadata.training_data["description"]
    assert len(artifact.bundled_catalog) == 41


def test_the_same_seed_twice_gives_identical_predictions(demo_dir, tmp_path):
    assert build(tmp_path / "again") == 0
    first, second = load_artifact(demo_dir).metadata, load_artifact(tmp_path / "again").metadata
    assert first.training_data["files"] == second.training_data["files"]  # same bytes
    assert first.model_version == second.model_version
    assert np.array_equal(predictions(demo_dir), predictions(tmp_path / "again"))


def test_the_command_replaces_the_output_directory_and_reports_the_metrics(tmp_path, capsys):
    out = tmp_path / "demo-model"
    out.mkdir()
    (out / "stale.txt").write_text("from an older build")

    assert main(["--out", str(out), "--seed", "11"]) == 0

    assert sorted(path.name for path in out.iterdir()) == ["card_variables.csv", "model.joblib", "model_metadata.json"]
    assert "(seed 11)" in load_artifact(out).metadata.training_data["description"]
    assert f"demo model in {out} (" in capsys.readouterr().out


def test_overrides_change_the_demo_models_shape_on_the_same_data(tmp_path):
    out = tmp_path / "deeper"
    assert build(out, overrides={"n_estimators": "4", "max_depth": "5"}) == 0
    estimator = load_artifact(out).estimator
    assert (estimator.n_estimators, estimator.max_depth) == (4, 5)
