"""hyperparameters.json: strings converted and range-checked, unknown keys refused, defaults when absent."""

from __future__ import annotations

import json

import pytest

from training.errors import TrainingError
from training.hyperparameters import Hyperparameters, parse_hyperparameters, read_hyperparameters


def test_string_values_are_converted_to_their_types():
    hyper = parse_hyperparameters(
        {
            "n_estimators": "150",
            "learning_rate": "0.05",
            "max_depth": " 4 ",
            "min_samples_leaf": "10",
            "subsample": "0.8",
            "random_state": "42",
            "validation_fraction": "0.3",
            "model_version": "approval-odds-2026.11",
            "data_description": "bureau extract of November",
        }
    )
    assert hyper == Hyperparameters(
        150, 0.05, 4, 10, 0.8, 42, 0.3, "approval-odds-2026.11", "bureau extract of November"
    )


def test_json_numbers_are_accepted_for_hand_written_files():
    assert parse_hyperparameters({"n_estimators": 50, "learning_rate": 0.2}) == Hyperparameters(
        n_estimators=50, learning_rate=0.2
    )


def test_sagemaker_sdk_keys_are_ignored():
    assert parse_hyperparameters({"sagemaker_job_name": '"job-1"', "sagemaker_region": '"eu-west-1"'}) == (
        Hyperparameters()
    )


def test_an_unknown_key_is_refused_with_the_known_ones_listed():
    with pytest.raises(TrainingError) as error:
        parse_hyperparameters({"max_dept": "3", "n_estimators": "10"})
    assert str(error.value) == (
        "hyperparameters.json: unknown hyperparameter(s) max_dept; known: n_estimators, learning_rate, max_depth, "
        "min_samples_leaf, subsample, random_state, validation_fraction, model_version, data_description"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("n_estimators", "0", "a whole number 1-5000"),
        ("n_estimators", "100.0", "a whole number 1-5000"),
        ("n_estimators", "many", "a whole number 1-5000"),
        ("learning_rate", "0", "a number in (0.0, 1.0]"),
        ("learning_rate", "1.5", "a number in (0.0, 1.0]"),
        ("learning_rate", "nan", "a number in (0.0, 1.0]"),
        ("max_depth", "13", "a whole number 1-12"),
        ("subsample", "-0.5", "a number in (0.0, 1.0]"),
        ("random_state", "-1", "a whole number 0-4294967295"),
        ("validation_fraction", "0.9", "a number in [0.05, 0.5]"),
        ("model_version", "v 1", "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"),
        ("data_description", "x" * 2501, "text of at most 2500 characters"),
        ("max_depth", True, "a whole number 1-12"),
    ],
)
def test_a_bad_value_names_the_key_and_what_was_expected(key, value, expected):
    with pytest.raises(TrainingError, match="^hyperparameters.json: ") as error:
        parse_hyperparameters({key: value})
    assert str(error.value).startswith(f"hyperparameters.json: {key}=")
    assert str(error.value).endswith(f" is invalid: expected {expected}")


def test_the_file_must_hold_an_object():
    with pytest.raises(TrainingError, match="^hyperparameters.json must hold a JSON object$"):
        parse_hyperparameters(["n_estimators", "10"])


def test_a_missing_file_means_defaults_and_a_broken_one_is_an_error(tmp_path):
    path = tmp_path / "hyperparameters.json"
    assert read_hyperparameters(path) == Hyperparameters()
    path.write_text('{"n_estimators": "10",')
    with pytest.raises(TrainingError, match="^hyperparameters.json is not valid UTF-8 JSON: "):
        read_hyperparameters(path)
    path.write_text(json.dumps({"max_depth": "5"}))
    assert read_hyperparameters(path).max_depth == 5
