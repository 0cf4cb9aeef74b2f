"""`transform`: a batch transform job that sends many lines per request and writes one output line per input
line, optionally joined with the input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from deploy.transform import MAX_NAME_LENGTH, default_job_name
from tests.deploy.conftest import Aws

MODEL = "approval-odds-0123456789"


def transform_args(*extra: str) -> list[str]:
    return [
        "transform",
        "--model-name", MODEL,
        "--input", "s3://batch/in/",
        "--output", "s3://batch/out/",
        "--instance-type", "ml.m5.xlarge",
        *extra,
    ]  # fmt: skip


def test_transform_job_is_multi_record_split_and_assembled_by_line(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = aws.run(capsys, *transform_args("--job-name", "nightly-1", "--instance-count", "2"))
    assert status == 0, err
    assert json.loads(out)["transform_job_name"] == "nightly-1"
    assert aws.called("CreateTransformJob") == [
        {
            "TransformJobName": "nightly-1",
            "ModelName": MODEL,
            "BatchStrategy": "MultiRecord",
            "MaxPayloadInMB": 6,
            "MaxConcurrentTransforms": 1,
            "ModelClientConfig": {"InvocationsTimeoutInSeconds": 600, "InvocationsMaxRetries": 3},
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://batch/in/"}},
                "ContentType": "text/csv",
                "SplitType": "Line",
                "CompressionType": "None",
            },
            "TransformOutput": {"S3OutputPath": "s3://batch/out/", "Accept": "text/csv", "AssembleWith": "Line"},
            "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2},
        }
    ]
    job = aws.client("sagemaker").describe_transform_job(TransformJobName="nightly-1")
    assert job["TransformInput"]["SplitType"] == "Line"
    assert job["TransformOutput"]["AssembleWith"] == "Line"


def test_join_with_input_adds_data_processing(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    extra = ("--join-input", "--input-filter", "$[1:]", "--content-type", "application/jsonlines")
    status, _, err = aws.run(capsys, *transform_args(*extra, "--accept", "application/jsonlines"))
    assert status == 0, err
    (request,) = aws.called("CreateTransformJob")
    assert request["DataProcessing"] == {"InputFilter": "$[1:]", "JoinSource": "Input"}
    assert request["TransformInput"]["ContentType"] == "application/jsonlines"
    assert request["TransformOutput"]["Accept"] == "application/jsonlines"


def test_payload_times_concurrency_over_100_mb_is_refused(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = aws.run(capsys, *transform_args("--max-payload-mb", "30", "--max-concurrent-transforms", "4"))
    assert status == 1
    assert "max payload 30 MB × 4 concurrent transforms = 120 MB: SageMaker allows at most 100 MB" in err
    assert aws.calls == []


def test_default_job_name_is_unique_per_second_and_fits() -> None:
    now = datetime(2026, 11, 25, 9, 30, 5, tzinfo=UTC)
    assert default_job_name("approval-odds-abc", now) == "approval-odds-abc-20261125-093005"
    assert len(default_job_name("m" * 80, now)) == MAX_NAME_LENGTH
