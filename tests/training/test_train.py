"""`entrypoint.py train` follows SageMaker's training contract: channels in, artefact or output/failure out."""

from __future__ import annotations

import pytest

from handler.model.artifact import load_artifact
from tests.training.samples import APPROVED_ROW, DECLINED_ROW, HEADER, applications
from training.cards import BUNDLED_CARDS
from training.train import main

SMALL = {"n_estimators": "20", "learning_rate": "0.2", "max_depth": "2", "min_samples_leaf": "5"}


def run_job(paths, monkeypatch) -> int:
    """Run the job the way the container does: the /opt/ml root comes from SAGEMAKER_BASE_DIR."""
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(paths.root))
    return main([])


def test_a_run_with_string_hyperparameters_writes_a_servable_artefact(make_root, demo_data, monkeypatch):
    paths = make_root(
        demo_data.train.iloc[:1600],
        validation=demo_data.validation.iloc[:400],
        cards=BUNDLED_CARDS.read_bytes(),
        hyperparameters={**SMALL, "random_state": "3", "model_version": "contract-test.1"},
    )

    assert run_job(paths, monkeypatch) == 0

    artifact = load_artifact(paths.model_dir)
    assert not paths.failure.exists()
    params = artifact.estimator.get_params()
    assert (params["n_estimators"], params["learning_rate"], params["max_depth"], params["random_state"]) == (
        20,
        0.2,
        2,
        3,
    )
    metadata = artifact.metadata
    assert metadata.model_version == "contract-test.1"
    assert metadata.metrics["holdout_rows"] == 400
    assert 0.5 < metadata.metrics["auc"] <= 1.0
    assert len(metadata.metrics["calibration_by_decile"]) == 10
    assert metadata.training_data["holdout_source"] == "channel validation"
    assert [file["name"] for file in metadata.training_data["files"]] == [
        "train/applications.csv",
        "validation/applications.csv",
    ]
    assert (paths.model_dir / "card_variables.csv").read_bytes() == BUNDLED_CARDS.read_bytes()


def test_without_validation_or_cards_channels_it_holds_out_train_rows_and_uses_the_bundled_catalogue(
    make_root, demo_data, monkeypatch
):
    paths = make_root(demo_data.train.iloc[:1000], hyperparameters={**SMALL, "validation_fraction": "0.25"})

    assert run_job(paths, monkeypatch) == 0

    metadata = load_artifact(paths.model_dir).metadata
    assert metadata.metrics["holdout_rows"] == 250
    assert metadata.training_data["fit_rows"] == 750
    assert metadata.training_data["holdout_source"] == "0.25 of channel train rows, stratified by label"
    assert metadata.training_data["cards"]["origin"] == "bundled demo_cards.csv"
    assert metadata.model_version.startswith("gbc-")


def test_the_default_model_version_depends_on_the_inputs_only(make_root, demo_data, monkeypatch, tmp_path):
    versions = []
    for rows in (slice(0, 800), slice(0, 800), slice(800, 1600)):
        paths = make_root(demo_data.train.iloc[rows], hyperparameters=SMALL)
        assert run_job(paths, monkeypatch) == 0
        versions.append(load_artifact(paths.model_dir).metadata.model_version)
        (tmp_path / "opt-ml").rename(tmp_path / f"done-{len(versions)}")
    assert versions[0] == versions[1] != versions[2]


BAD_INPUTS = {
    "missing column": (
        applications("0,34,52000,1,0,1,48,1,cash-plus,1", header=HEADER.replace("active_accounts,", "")),
        "train/applications.csv line 1: missing column(s) active_accounts",
    ),
    "non-numeric value": (
        applications(APPROVED_ROW, DECLINED_ROW, "0,thirty,52000,1,0,1,48,1,6,cash-plus,1"),
        "train/applications.csv line 4, column age: must be a number",
    ),
    "unknown card id": (
        applications(APPROVED_ROW, "0,34,52000,1,0,1,48,1,6,no-such-card,0"),
        "train/applications.csv line 3, column card_id: card id 'no-such-card' is not in the card catalogue",
    ),
    "a single label class": (
        applications(APPROVED_ROW, APPROVED_ROW),
        "train/applications.csv: column approved is 1 on all 2 rows of channel train; "
        "a model needs both approved (1) and declined (0) applications",
    ),
    "empty file": ("", "train/applications.csv is empty"),
    "header only": (applications(), "train/applications.csv has a header but no data rows"),
    "value out of range": (
        applications(APPROVED_ROW, "0,34,52000,1,0,1,48,1,600,cash-plus,0"),
        "train/applications.csv line 3, column active_accounts: must be between 0 and 200",
    ),
    "label not 0/1": (
        applications(APPROVED_ROW, "0,34,52000,1,0,1,48,1,6,cash-plus,maybe"),
        "train/applications.csv line 3, column approved: must be 0 (declined) or 1 (approved)",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_training_data_fails_with_a_located_message_in_output_failure(case, make_root, monkeypatch):
    text, message = BAD_INPUTS[case]
    paths = make_root(text, hyperparameters=SMALL)

    assert run_job(paths, monkeypatch) == 1

    assert paths.failure.read_text(encoding="utf-8") == message + "\n"
    assert not (paths.model_dir / "model.joblib").exists()


def test_a_failure_message_never_repeats_the_applicants_values(make_root, monkeypatch):
    paths = make_root(
        applications(APPROVED_ROW, "0,34,52000,1,0,1,48,1,6,cash-plus,1", "0,34,8675309x,1,0,1,48,1,6,cash-plus,0")
    )

    assert run_job(paths, monkeypatch) == 1

    failure = paths.failure.read_text(encoding="utf-8")
    assert "line 4, column annual_income" in failure
    assert "8675309" not in failure


def test_a_single_class_validation_channel_fails(make_root, monkeypatch):
    paths = make_root(applications(APPROVED_ROW, DECLINED_ROW), validation=applications(DECLINED_ROW, DECLINED_ROW))

    assert run_job(paths, monkeypatch) == 1

    assert "validation/applications.csv: column approved is 0 on all 2 rows of channel validation" in (
        paths.failure.read_text(encoding="utf-8")
    )


def test_a_bad_cards_channel_fails_naming_the_catalogue_file(make_root, monkeypatch):
    cards = BUNDLED_CARDS.read_bytes().replace(b",1,0,27.99,", b",1,0,high,", 1)
    paths = make_root(applications(APPROVED_ROW, DECLINED_ROW), cards=cards)

    assert run_job(paths, monkeypatch) == 1

    assert paths.failure.read_text(encoding="utf-8") == (
        "cards/card_variables.csv: card catalogue line 2: purchase_apr must be a number\n"
    )


def test_an_unknown_hyperparameter_fails_before_reading_data(make_root, monkeypatch):
    paths = make_root("", hyperparameters={"n_estimator": "100"})

    assert run_job(paths, monkeypatch) == 1

    assert paths.failure.read_text(encoding="utf-8").startswith(
        "hyperparameters.json: unknown hyperparameter(s) n_estimator; known: n_estimators,"
    )


def test_a_missing_train_channel_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))

    assert main([]) == 1

    assert (tmp_path / "output" / "failure").read_text(encoding="utf-8") == (
        f"channel train: directory {tmp_path}/input/data/train does not exist\n"
    )


def test_an_unexpected_error_still_writes_output_failure(make_root, demo_data, monkeypatch):
    paths = make_root(demo_data.train.iloc[:400], hyperparameters=SMALL)
    paths.model_dir.write_text("a file where the model directory should be")

    assert run_job(paths, monkeypatch) == 1

    assert paths.failure.read_text(encoding="utf-8").startswith("training failed unexpectedly: FileExistsError")


def test_a_successful_run_clears_an_earlier_runs_failure(make_root, demo_data, monkeypatch):
    paths = make_root(demo_data.train.iloc[:400], hyperparameters=SMALL)
    paths.failure.parent.mkdir(parents=True)
    paths.failure.write_text("train/applications.csv is empty\n")

    assert run_job(paths, monkeypatch) == 0

    assert not paths.failure.exists()
