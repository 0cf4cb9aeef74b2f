"""`deploy`: model, endpoint configuration and endpoint created once, reused when nothing changed, and the endpoint
moved to a new configuration (UpdateEndpoint) when something did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.sagemaker.models import sagemaker_backends

from deploy.sagemaker import MAX_NAME_LENGTH, versioned_name
from tests.deploy.conftest import ACCOUNT, IMAGE, REGION, ROLE, Aws
from tests.support.artifacts import write_artifact

MODEL_DATA = "s3://models/approval-odds/model.tar.gz"
CARDS = "s3://catalogue/cards/card_variables.csv"


def deploy_args(*extra: str) -> list[str]:
    return [
        "deploy",
        "--endpoint-name", "approval-odds",
        "--image", IMAGE,
        "--role-arn", ROLE,
        "--model-data", MODEL_DATA,
        "--instance-type", "ml.m5.large",
        *extra,
    ]  # fmt: skip


def test_first_deploy_creates_model_config_and_endpoint(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = aws.run(
        capsys,
        *deploy_args("--instance-count", "2", "--card-variables-s3-uri", CARDS, "--env", "LOG_LEVEL=DEBUG", "--wait"),
    )
    assert status == 0, err
    result = json.loads(out)
    assert result["action"] == "created"
    (model,) = aws.called("CreateModel")
    assert model == {
        "ModelName": result["model_name"],
        "PrimaryContainer": {
            "Image": IMAGE,
            "ModelDataUrl": MODEL_DATA,
            "Environment": {
                "METRICS_EMF": "true",  # EMF metrics on, with the endpoint and variant as their dimensions
                "METRICS_ENDPOINT_NAME": "approval-odds",
                "METRICS_VARIANT_NAME": "AllTraffic",
                "LOG_LEVEL": "DEBUG",
                "CARD_VARIABLES_S3_URI": CARDS,
            },
        },
        "ExecutionRoleArn": ROLE,
    }
    (config,) = aws.called("CreateEndpointConfig")
    assert config == {
        "EndpointConfigName": result["endpoint_config_name"],
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": result["model_name"],
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 1.0,
            }
        ],
    }
    assert aws.called("CreateEndpoint") == [
        {"EndpointName": "approval-odds", "EndpointConfigName": result["endpoint_config_name"]}
    ]
    endpoint = aws.client("sagemaker").describe_endpoint(EndpointName="approval-odds")
    assert endpoint["EndpointStatus"] == "InService"


def test_deploying_the_same_thing_again_changes_nothing(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    first = json.loads(aws.run(capsys, *deploy_args())[1])
    aws.calls.clear()
    status, out, _ = aws.run(capsys, *deploy_args())
    assert status == 0
    assert json.loads(out) == {**first, "action": "unchanged"}
    assert not [name for name in aws.operations() if name.startswith(("Create", "Update"))]


def test_a_changed_deploy_updates_the_endpoint_to_a_new_configuration(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    first = json.loads(aws.run(capsys, *deploy_args())[1])
    status, out, err = aws.run(capsys, *deploy_args("--instance-count", "3"))
    assert status == 0, err
    second = json.loads(out)
    assert second["action"] == "updated"
    assert second["model_name"] == first["model_name"]  # same container: the model is reused
    assert second["endpoint_config_name"] != first["endpoint_config_name"]
    assert aws.called("UpdateEndpoint") == [
        {"EndpointName": "approval-odds", "EndpointConfigName": second["endpoint_config_name"]}
    ]
    endpoint = aws.client("sagemaker").describe_endpoint(EndpointName="approval-odds")
    assert endpoint["EndpointConfigName"] == second["endpoint_config_name"]
    assert endpoint["ProductionVariants"][0]["DesiredInstanceCount"] == 3


def test_a_new_image_gets_a_new_model(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    first = json.loads(aws.run(capsys, *deploy_args())[1])
    new_image = IMAGE.replace(":1.0", ":1.1")
    args = deploy_args()
    args[args.index(IMAGE)] = new_image
    second = json.loads(aws.run(capsys, *args)[1])
    assert second["model_name"] != first["model_name"]
    assert aws.called("CreateModel")[-1]["PrimaryContainer"]["Image"] == new_image


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("Updating", "endpoint approval-odds is Updating: wait until it is InService, then retry"),
        ("Failed", "endpoint approval-odds is Failed (image pull failed): SageMaker cannot update a failed endpoint"),
    ],
)
def test_an_endpoint_that_cannot_be_updated_is_reported(
    aws: Aws, capsys: pytest.CaptureFixture[str], status: str, message: str
) -> None:
    aws.run(capsys, *deploy_args())
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints["approval-odds"]
    endpoint.endpoint_status, endpoint.failure_reason = status, "image pull failed"
    code, out, err = aws.run(capsys, *deploy_args("--instance-count", "2"))
    assert code == 1
    assert out == ""
    assert message in err
    assert not aws.called("UpdateEndpoint")


def test_wait_reports_why_the_endpoint_never_came_into_service(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.run(capsys, *deploy_args())
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints["approval-odds"]
    endpoint.endpoint_status, endpoint.failure_reason = "Failed", "ping health check failed"
    status, out, err = aws.run(capsys, *deploy_args("--wait"))
    assert status == 1
    assert out == ""
    assert err == "python -m deploy: error: endpoint approval-odds did not reach InService: ping health check failed\n"


def test_deploy_from_a_model_directory_uploads_it_first(
    aws: Aws, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    aws.client("s3").create_bucket(Bucket="models")
    model_dir = write_artifact(tmp_path / "model")
    args = deploy_args("--model-dir", str(model_dir), "--upload-to", "s3://models/v7/")
    del args[args.index("--model-data") : args.index("--model-data") + 2]
    status, out, err = aws.run(capsys, *args)
    assert status == 0, err
    assert json.loads(out)["model_data_url"] == "s3://models/v7/model.tar.gz"
    assert aws.called("CreateModel")[0]["PrimaryContainer"]["ModelDataUrl"] == "s3://models/v7/model.tar.gz"
    assert aws.client("s3").head_object(Bucket="models", Key="v7/model.tar.gz")["ContentLength"] > 0


def test_model_command_creates_a_model_for_transform_jobs(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["model", "--name", "approval-odds-batch", "--image", IMAGE, "--role-arn", ROLE, "--model-data", MODEL_DATA]
    status, out, err = aws.run(capsys, *args)
    assert status == 0, err
    name = json.loads(out)["model_name"]
    assert name.startswith("approval-odds-batch-")
    assert aws.client("sagemaker").describe_model(ModelName=name)["PrimaryContainer"]["Image"] == IMAGE
    assert aws.operations("sagemaker") == ["DescribeModel", "CreateModel"]


def test_versioned_names_fit_sagemakers_limit_and_follow_the_content() -> None:
    long_base = "a" * 80
    assert len(versioned_name(long_base, {"x": 1})) == MAX_NAME_LENGTH
    assert versioned_name("m", {"x": 1}) == versioned_name("m", {"x": 1})
    assert versioned_name("m", {"x": 1}) != versioned_name("m", {"x": 2})
