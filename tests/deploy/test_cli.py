"""What a user sees for a bad argument: argparse's usage and one line naming the argument and what it expects
(exit 2), or one line for a problem found later (exit 1) — never a traceback, and no AWS call before the check."""

from __future__ import annotations

import pytest

from deploy.cli import main
from tests.deploy.conftest import IMAGE, ROLE, Aws
from tests.deploy.test_sagemaker import deploy_args


def replaced(args: list[str], option: str, value: str) -> list[str]:
    changed = list(args)
    changed[changed.index(option) + 1] = value
    return changed


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--image", "approval-odds", "argument --image: 'approval-odds' is not an image URI with a tag or digest"),
        ("--role-arn", "SageMakerRole", "argument --role-arn: 'SageMakerRole' is not an IAM role ARN"),
        ("--model-data", "models/model.tar.gz", "argument --model-data: 'models/model.tar.gz' is not an S3 URI"),
        ("--model-data", "s3://models/", "argument --model-data: 's3://models/' names no object"),
        ("--model-data", "s3://Bad_Bucket/m.tar.gz", "does not start with a valid bucket name"),
        ("--instance-type", "m5.large", "argument --instance-type: 'm5.large' is not a SageMaker instance type"),
        ("--endpoint-name", "approval_odds", "argument --endpoint-name: 'approval_odds' is not a SageMaker name"),
    ],
)
def test_a_malformed_deploy_argument_is_named_with_what_is_expected(
    aws: Aws, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    status, out, err = aws.run(capsys, *replaced(deploy_args(), option, value))
    assert status == 2
    assert out == ""
    assert err.startswith("usage: python -m deploy deploy")
    assert message in err
    assert aws.calls == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--instance-count", "0"], "argument --instance-count: '0' is not a whole number from 1 to 100"),
        (["--env", "LOG_LEVEL"], "argument --env: 'LOG_LEVEL' is not NAME=VALUE"),
        (["--model-dir", "/nonexistent"], "argument --model-dir: '/nonexistent' is not a directory"),
        (["--model-dir", "."], "argument --model-dir: not allowed with argument --model-data"),
    ],
)
def test_bad_counts_pairs_and_conflicts_are_refused(
    aws: Aws, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    status, _, err = aws.run(capsys, *deploy_args(*extra))
    assert status == 2
    assert message in err


def test_a_missing_required_argument_is_named(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = aws.run(capsys, "deploy", "--endpoint-name", "approval-odds", "--image", IMAGE)
    assert status == 2
    assert "the following arguments are required: --role-arn, --instance-type" in err


def test_a_container_setting_the_image_would_refuse_is_caught_at_deploy_time(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = aws.run(capsys, *deploy_args("--env", "SAGEMAKER_MAX_PAYLOAD_IN_MB=500"))
    assert status == 1
    assert out == ""
    assert (
        err == "python -m deploy: error: --env: SAGEMAKER_MAX_PAYLOAD_IN_MB='500' is invalid: expected whole MB 1-100\n"
    )
    assert aws.calls == []


def test_model_dir_needs_an_upload_destination(aws: Aws, capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    args = ["model", "--name", "m", "--image", IMAGE, "--role-arn", ROLE, "--model-dir", str(tmp_path)]
    status, _, err = aws.run(capsys, *args)
    assert status == 1
    assert "--model-dir needs --upload-to s3://bucket/prefix/" in err


def test_an_aws_refusal_is_one_line_naming_the_operation(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["autoscale", "--endpoint-name", "missing", "--min-instances", "1", "--max-instances", "2"]
    status, out, err = aws.run(capsys, *args, "--target-invocations", "100")
    assert status == 1
    assert out == ""
    assert err.startswith("python -m deploy: error: AWS refused DescribeEndpoint: ValidationException: Could not find")
    assert err.count("\n") == 1


def test_no_region_anywhere_is_reported(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    assert main(["ecr-login"]) == 1
    assert capsys.readouterr().err == "python -m deploy: error: no AWS region: pass --region or set AWS_REGION\n"


def test_an_unknown_command_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["push"])
    assert exit_.value.code == 2
    assert "invalid choice: 'push'" in capsys.readouterr().err
