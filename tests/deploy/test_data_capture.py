"""`deploy --data-capture-s3-uri`: SageMaker Data Capture of requests and responses (the audit record of each
decision), and the metrics environment every deployed endpoint gets."""

from __future__ import annotations

import json

import pytest

from tests.deploy.conftest import Aws
from tests.deploy.test_sagemaker import deploy_args

CAPTURE = "s3://odds-audit/capture/"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_capture_records_inputs_and_outputs_of_the_container_media_types_as_text(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    args = deploy_args(
        "--data-capture-s3-uri", CAPTURE, "--data-capture-percent", "25", "--data-capture-kms-key", KMS_KEY
    )
    status, out, err = aws.run(capsys, *args)
    assert status == 0, err
    expected = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 25,
        "DestinationS3Uri": CAPTURE,
        "KmsKeyId": KMS_KEY,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json", "application/jsonlines"],
        },
    }
    (config,) = aws.called("CreateEndpointConfig")
    assert config["DataCaptureConfig"] == expected
    name = json.loads(out)["endpoint_config_name"]
    described = aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=name)
    assert described["DataCaptureConfig"] == expected


def test_without_the_option_nothing_is_captured_and_turning_it_on_is_a_new_configuration(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    first = json.loads(aws.run(capsys, *deploy_args())[1])
    assert "DataCaptureConfig" not in aws.called("CreateEndpointConfig")[0]
    status, out, err = aws.run(capsys, *deploy_args("--data-capture-s3-uri", CAPTURE))
    assert status == 0, err
    second = json.loads(out)
    assert second["action"] == "updated" and second["model_name"] == first["model_name"]
    capture = aws.called("CreateEndpointConfig")[-1]["DataCaptureConfig"]
    assert (capture["InitialSamplingPercentage"], "KmsKeyId" in capture) == (100, False)
    again = json.loads(aws.run(capsys, *deploy_args("--data-capture-s3-uri", CAPTURE))[1])
    assert again["action"] == "unchanged"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--data-capture-s3-uri", CAPTURE, "--data-capture-percent", "0"), "'0' is not a whole number from 1 to 100"),
        (("--data-capture-s3-uri", CAPTURE, "--data-capture-kms-key", "my key"), "is not a KMS key id"),
        (("--data-capture-s3-uri", "https://odds-audit/capture/"), "is not an S3 URI"),
    ],
)
def test_bad_capture_arguments_are_refused_before_any_aws_call(
    aws: Aws, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    status, _, err = aws.run(capsys, *deploy_args(*extra))
    assert status == 2
    assert message in err
    assert aws.calls == []


def test_a_kms_key_without_a_destination_is_an_error(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = aws.run(capsys, *deploy_args("--data-capture-kms-key", "alias/odds-capture"))
    assert status == 1
    assert "--data-capture-kms-key only goes with --data-capture-s3-uri" in err
    assert aws.calls == []


def test_metrics_are_on_with_the_endpoint_and_variant_unless_turned_off_or_overridden(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.run(capsys, *deploy_args("--variant-name", "blue", "--env", "METRICS_NAMESPACE=Cards"))
    environment = aws.called("CreateModel")[-1]["PrimaryContainer"]["Environment"]
    assert environment == {
        "METRICS_EMF": "true",
        "METRICS_ENDPOINT_NAME": "approval-odds",
        "METRICS_VARIANT_NAME": "blue",
        "METRICS_NAMESPACE": "Cards",
    }
    aws.run(capsys, *deploy_args("--env", "METRICS_EMF=false"))
    assert aws.called("CreateModel")[-1]["PrimaryContainer"]["Environment"]["METRICS_EMF"] == "false"
    aws.run(capsys, *deploy_args("--no-metrics"))
    assert aws.called("CreateModel")[-1]["PrimaryContainer"]["Environment"] == {}
