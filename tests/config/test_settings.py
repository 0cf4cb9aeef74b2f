"""Settings: defaults, the SageMaker and legacy variable names, and a clear stop on any invalid value."""

from pathlib import Path

import pytest

from config import settings as settings_module
from config.settings import SettingsError, from_env


def test_defaults_follow_the_sagemaker_contract():
    settings = from_env({})
    assert settings.port == 8080
    assert settings.timeout_seconds == 60
    assert settings.max_payload_mb == 6
    assert settings.max_payload_bytes == 6 * 1024 * 1024
    assert settings.default_accept == "application/json"
    assert settings.bind_host == "0.0.0.0"
    assert settings.workers >= 1
    assert settings.card_variables_s3_uri is None
    assert settings.default_cards is None


def test_opt_ml_model_is_used_unless_empty_and_a_demo_model_was_built(tmp_path, monkeypatch):
    demo = tmp_path / "demo"
    monkeypatch.setattr(settings_module, "DEMO_MODEL_DIR", demo)
    env = {"SAGEMAKER_BASE_DIR": str(tmp_path / "ml")}
    assert from_env(env).model_dir == tmp_path / "ml" / "model", "no demo model: name SageMaker's directory"
    demo.mkdir()
    (demo / "model_metadata.json").write_text("{}")
    assert from_env(env).model_dir == demo
    (tmp_path / "ml" / "model").mkdir(parents=True)
    (tmp_path / "ml" / "model" / "model_metadata.json").write_text("{}")
    assert from_env(env).model_dir == tmp_path / "ml" / "model"
    assert from_env({"MODEL_DIR": "/models/x"}).model_dir == Path("/models/x")


def test_sagemaker_names_win_over_the_original_systems_names():
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": "3", "MODEL_SERVER_WORKERS": "5"}
    assert from_env(env).workers == 3
    assert from_env({"MODEL_SERVER_WORKERS": "5"}).workers == 5
    assert from_env({"MODEL_SERVER_TIMEOUT": "90"}).timeout_seconds == 90
    assert (
        from_env({"SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS": "30", "MODEL_SERVER_TIMEOUT": "90"}).timeout_seconds == 30
    )


def test_values_are_parsed_and_normalised():
    settings = from_env(
        {
            "LOG_LEVEL": "debug",
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "TEXT/CSV",
            "SAGEMAKER_BATCH": "True",
            "SAGEMAKER_BATCH_STRATEGY": "multi-record",
            "DEFAULT_CARDS": "cash-plus, travel-elite",
            "CARD_VARIABLES_S3_URI": "s3://bucket/data/card_variables.csv",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": "100",
        }
    )
    assert settings.log_level == "DEBUG"
    assert settings.default_accept == "text/csv"
    assert settings.batch is True
    assert settings.batch_strategy == "MULTI_RECORD"
    assert settings.default_cards == ("cash-plus", "travel-elite")
    assert settings.card_variables_s3_uri == "s3://bucket/data/card_variables.csv"
    assert settings.max_payload_bytes == 100 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SAGEMAKER_BIND_TO_PORT", "40000", "a port 1-32766"),  # MMS refuses ports >= 32767
        ("SAGEMAKER_BIND_TO_PORT", "http", "a port"),
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "0", "workers"),
        ("MODEL_SERVER_WORKERS", "two", "workers"),
        ("SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS", "-1", "seconds"),
        ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "101", "1-100"),
        ("LOG_LEVEL", "LOUD", "one of DEBUG"),
        ("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/xml", "one of application/json"),
        ("CARD_VARIABLES_S3_URI", "https://bucket/key", "s3://bucket/key.csv"),
        ("CARD_VARIABLES_S3_URI", "s3://bucket/", "s3://bucket/key.csv"),
        ("CARD_VARIABLES_S3_URI", "s3://Not_A_Bucket/key.csv", "s3://bucket/key.csv"),
        ("CARD_VARIABLES_REFRESH_SECONDS", "nan", "seconds"),
        ("DEFAULT_CARDS", "a,,b", "comma-separated"),
        ("DEFAULT_CARDS", "a,a", "distinct"),
        ("SAGEMAKER_BATCH", "maybe", "true or false"),
        ("BIND_HOST", "example.com", "IPv4 address"),
    ],
)
def test_an_invalid_value_names_the_variable_and_what_was_expected(name, value, expected):
    with pytest.raises(SettingsError) as raised:
        from_env({name: value})
    assert name in str(raised.value)
    assert repr(value) in str(raised.value)
    assert expected in str(raised.value)


def test_management_port_must_differ_from_the_inference_port():
    with pytest.raises(SettingsError, match="MANAGEMENT_PORT"):
        from_env({"SAGEMAKER_BIND_TO_PORT": "9000", "MANAGEMENT_PORT": "9000"})
    assert from_env({"SAGEMAKER_BIND_TO_PORT": "8081"}).management_port != 8081


def test_blank_values_count_as_unset():
    assert from_env({"SAGEMAKER_BIND_TO_PORT": "  ", "LOG_LEVEL": ""}).port == 8080


def test_concurrent_transforms_default_to_the_workers_within_sagemakers_100_mb():
    assert from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "4"}).concurrent_transforms == 4
    big = {"SAGEMAKER_MODEL_SERVER_WORKERS": "4", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "30"}
    assert from_env(big).concurrent_transforms == 3  # 3 x 30 MB <= 100 MB
    assert from_env({**big, "SAGEMAKER_MAX_PAYLOAD_IN_MB": "100"}).concurrent_transforms == 1
    assert from_env({**big, "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "2"}).concurrent_transforms == 2


def test_an_explicit_concurrency_over_sagemakers_100_mb_stops_start_up():
    with pytest.raises(SettingsError) as raised:
        from_env({"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "3", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "50"})
    assert "150 MB" in str(raised.value)
    assert "at most 100 MB" in str(raised.value)


def test_batch_transform_waits_as_long_as_sagemaker_does_unless_told_otherwise():
    assert from_env({}).timeout_seconds == 60
    assert from_env({"SAGEMAKER_BATCH": "true"}).timeout_seconds == 600
    assert from_env({"SAGEMAKER_BATCH": "true", "SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS": "90"}).timeout_seconds == 90


def test_prediction_engine_defaults_to_the_compiled_ensemble():
    assert from_env({}).prediction_engine == "pair-trees"
    assert from_env({"PREDICTION_ENGINE": "onnxruntime"}).prediction_engine == "onnxruntime"
    assert from_env({"PREDICTION_ENGINE": "SKLEARN"}).prediction_engine == "sklearn"
    with pytest.raises(SettingsError, match="PREDICTION_ENGINE"):
        from_env({"PREDICTION_ENGINE": "xgboost"})


def test_a_relative_model_dir_is_made_absolute(tmp_path, monkeypatch):
    """MMS resolves relative model paths against its model store "/", so `MODEL_DIR=build/x make serve` must not."""
    monkeypatch.chdir(tmp_path)
    assert from_env({"MODEL_DIR": "build/demo-model"}).model_dir == tmp_path / "build" / "demo-model"
