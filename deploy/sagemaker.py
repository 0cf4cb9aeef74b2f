"""Create or update a SageMaker model, endpoint configuration and real-time endpoint.

Models and endpoint configurations cannot be changed once created, so each gets a name derived from its content
(`<base>-<digest>`): deploying the same thing twice reuses them and changes nothing, and deploying something new
creates new ones and points the endpoint at them with UpdateEndpoint (SageMaker swaps instances without downtime).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from deploy.data_capture import DataCaptureSpec
from deploy.errors import DeployError

MAX_NAME_LENGTH = 63
DIGEST_LENGTH = 10
# SageMaker's limits on a container's environment (CreateModel).
MAX_ENVIRONMENT_ENTRIES = 100
MAX_ENVIRONMENT_LENGTH = 1024
# Endpoint states in which UpdateEndpoint is refused.
BUSY_STATES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


@dataclass(frozen=True)
class ModelSpec:
    image: str
    model_data_url: str
    role_arn: str
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSpec:
    endpoint_name: str
    model: ModelSpec
    instance_type: str
    instance_count: int
    variant_name: str = "AllTraffic"
    data_capture: DataCaptureSpec | None = None


@dataclass(frozen=True)
class Deployment:
    model_name: str
    endpoint_config_name: str
    endpoint_name: str
    action: str  # "created", "updated" or "unchanged"


def versioned_name(base: str, content: Mapping[str, Any]) -> str:
    """`base-<digest of content>`, cut to SageMaker's 63 characters."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{base[: MAX_NAME_LENGTH - DIGEST_LENGTH - 1].rstrip('-')}-{digest}"


def check_environment(environment: Mapping[str, str]) -> None:
    if len(environment) > MAX_ENVIRONMENT_ENTRIES:
        raise DeployError(f"{len(environment)} environment variables: SageMaker allows {MAX_ENVIRONMENT_ENTRIES}")
    for key, value in environment.items():
        if len(key) > MAX_ENVIRONMENT_LENGTH or len(value) > MAX_ENVIRONMENT_LENGTH:
            raise DeployError(f"environment variable {key[:40]}: names and values are limited to 1024 characters")


def ensure_model(sagemaker: Any, base_name: str, spec: ModelSpec) -> str:
    """The name of a model running `spec`, created unless it already exists."""
    check_environment(spec.environment)
    container = {"Image": spec.image, "ModelDataUrl": spec.model_data_url, "Environment": dict(spec.environment)}
    name = versioned_name(base_name, {"container": container, "role": spec.role_arn})
    if not _exists(sagemaker.describe_model, ModelName=name):
        sagemaker.create_model(ModelName=name, PrimaryContainer=container, ExecutionRoleArn=spec.role_arn)
    return name


def ensure_endpoint_config(sagemaker: Any, spec: EndpointSpec, model_name: str) -> str:
    """The name of an endpoint configuration serving `model_name` as `spec` says, created unless it exists."""
    variant = {
        "VariantName": spec.variant_name,
        "ModelName": model_name,
        "InstanceType": spec.instance_type,
        "InitialInstanceCount": spec.instance_count,
        "InitialVariantWeight": 1.0,
    }
    content: dict[str, Any] = {"variants": [variant]}
    if spec.data_capture is not None:
        content["data_capture"] = spec.data_capture.config()
    name = versioned_name(spec.endpoint_name, content)
    if not _exists(sagemaker.describe_endpoint_config, EndpointConfigName=name):
        extra = {"DataCaptureConfig": content["data_capture"]} if spec.data_capture is not None else {}
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant], **extra)
    return name


def deploy_endpoint(sagemaker: Any, spec: EndpointSpec) -> Deployment:
    """Create the endpoint, or move an existing one to the configuration `spec` describes."""
    model_name = ensure_model(sagemaker, spec.endpoint_name, spec.model)
    config_name = ensure_endpoint_config(sagemaker, spec, model_name)
    current = _describe_endpoint(sagemaker, spec.endpoint_name)
    if current is None:
        sagemaker.create_endpoint(EndpointName=spec.endpoint_name, EndpointConfigName=config_name)
        action = "created"
    elif current["EndpointConfigName"] == config_name:
        action = "unchanged"
    else:
        status = current["EndpointStatus"]
        if status in BUSY_STATES:
            raise DeployError(f"endpoint {spec.endpoint_name} is {status}: wait until it is InService, then retry")
        if status == "Failed":
            reason = current.get("FailureReason", "no reason given")
            raise DeployError(
                f"endpoint {spec.endpoint_name} is Failed ({reason}): SageMaker cannot update a failed endpoint; "
                "delete it (aws sagemaker delete-endpoint) and deploy again"
            )
        sagemaker.update_endpoint(EndpointName=spec.endpoint_name, EndpointConfigName=config_name)
        action = "updated"
    return Deployment(model_name, config_name, spec.endpoint_name, action)


def wait_in_service(sagemaker: Any, endpoint_name: str, delay_seconds: int = 30, max_attempts: int = 120) -> None:
    """Block until the endpoint is InService (default: up to an hour), or raise with SageMaker's reason."""
    try:
        sagemaker.get_waiter("endpoint_in_service").wait(
            EndpointName=endpoint_name, WaiterConfig={"Delay": delay_seconds, "MaxAttempts": max_attempts}
        )
    except WaiterError as error:
        described = _describe_endpoint(sagemaker, endpoint_name) or {}
        reason = described.get("FailureReason") or str(error)
        raise DeployError(f"endpoint {endpoint_name} did not reach InService: {reason}") from None


def _describe_endpoint(sagemaker: Any, endpoint_name: str) -> dict[str, Any] | None:
    try:
        return sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise


def _exists(describe: Any, **name: str) -> bool:
    try:
        describe(**name)
    except ClientError as error:
        if _is_not_found(error):
            return False
        raise
    return True


def _is_not_found(error: ClientError) -> bool:
    # SageMaker reports a missing resource as ValidationException "Could not find ...".
    details = error.response.get("Error", {})
    code, message = details.get("Code", ""), details.get("Message", "")
    return code in ("ValidationException", "ResourceNotFound") and "not find" in message
