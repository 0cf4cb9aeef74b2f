"""Batch transform jobs: many applicants per request (MultiRecord), files split and reassembled by line.

With SplitType Line and AssembleWith Line, output line N belongs to input line N, so `join_input` can append the
odds to each input record (JoinSource Input) for users who want both in one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.s3 import S3Location
from config.settings import BATCH_TIMEOUT_SECONDS, CSV, DEFAULT_PAYLOAD_MB, MAX_TOTAL_PAYLOAD_MB
from deploy.errors import DeployError

MAX_NAME_LENGTH = 63


@dataclass(frozen=True)
class TransformSpec:
    job_name: str
    model_name: str
    input: S3Location
    output: S3Location
    instance_type: str
    instance_count: int = 1
    content_type: str = CSV
    accept: str = CSV
    max_payload_mb: int = DEFAULT_PAYLOAD_MB
    max_concurrent_transforms: int = 1
    join_input: bool = False
    input_filter: str | None = None  # JSONPath applied to each input record before it is sent
    output_filter: str | None = None  # JSONPath applied to the (joined) output record
    invocation_timeout_seconds: int = BATCH_TIMEOUT_SECONDS
    invocation_max_retries: int = 3


def default_job_name(model_name: str, now: datetime) -> str:
    """`<model>-<UTC timestamp>`: job names must be unique in the account and region."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return f"{model_name[: MAX_NAME_LENGTH - len(stamp) - 1].rstrip('-')}-{stamp}"


def transform_request(spec: TransformSpec) -> dict[str, Any]:
    """The CreateTransformJob parameters for `spec`."""
    total = spec.max_payload_mb * spec.max_concurrent_transforms
    if total > MAX_TOTAL_PAYLOAD_MB:
        raise DeployError(
            f"max payload {spec.max_payload_mb} MB × {spec.max_concurrent_transforms} concurrent transforms = "
            f"{total} MB: SageMaker allows at most {MAX_TOTAL_PAYLOAD_MB} MB"
        )
    request: dict[str, Any] = {
        "TransformJobName": spec.job_name,
        "ModelName": spec.model_name,
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": spec.max_payload_mb,
        "MaxConcurrentTransforms": spec.max_concurrent_transforms,
        "ModelClientConfig": {
            "InvocationsTimeoutInSeconds": spec.invocation_timeout_seconds,
            "InvocationsMaxRetries": spec.invocation_max_retries,
        },
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": spec.input.uri}},
            "ContentType": spec.content_type,
            "SplitType": "Line",
            "CompressionType": "None",
        },
        "TransformOutput": {"S3OutputPath": spec.output.uri, "Accept": spec.accept, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": spec.instance_type, "InstanceCount": spec.instance_count},
    }
    processing = {
        "InputFilter": spec.input_filter,
        "OutputFilter": spec.output_filter,
        "JoinSource": "Input" if spec.join_input else None,
    }
    if any(processing.values()):
        request["DataProcessing"] = {key: value for key, value in processing.items() if value}
    return request


def start_transform_job(sagemaker: Any, spec: TransformSpec) -> str:
    """Start the job; its ARN. The model must exist (see deploy.sagemaker.ensure_model)."""
    return sagemaker.create_transform_job(**transform_request(spec))["TransformJobArn"]
