"""`autoscale`: the endpoint variant becomes a scalable target with a target-tracking policy on
SageMakerVariantInvocationsPerInstance."""

from __future__ import annotations

import pytest
from moto.sagemaker.models import sagemaker_backends

from tests.deploy.conftest import ACCOUNT, REGION, Aws
from tests.deploy.test_sagemaker import deploy_args

RESOURCE = "endpoint/approval-odds/variant/AllTraffic"
TARGET = {
    "ServiceNamespace": "sagemaker",
    "ResourceId": RESOURCE,
    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
}


def autoscale_args(*extra: str) -> list[str]:
    return ["autoscale", "--endpoint-name", "approval-odds", "--min-instances", "1", "--max-instances", "4", *extra]


def test_autoscale_registers_the_variant_and_tracks_invocations_per_instance(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.run(capsys, *deploy_args())
    status, out, err = aws.run(capsys, *autoscale_args("--target-invocations", "750", "--scale-in-cooldown", "600"))
    assert status == 0, err
    assert aws.called("RegisterScalableTarget") == [{**TARGET, "MinCapacity": 1, "MaxCapacity": 4}]
    assert aws.called("PutScalingPolicy") == [
        {
            **TARGET,
            "PolicyName": "approval-odds-AllTraffic-invocations-per-instance",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 750.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 60,
            },
        }
    ]
    scaling = aws.client("application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (RESOURCE, 1, 4)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert policy["PolicyARN"] in out


def test_running_autoscale_again_replaces_the_policy(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.run(capsys, *deploy_args())
    aws.run(capsys, *autoscale_args("--target-invocations", "750"))
    assert aws.run(capsys, *autoscale_args("--target-invocations", "300"))[0] == 0
    (policy,) = aws.client("application-autoscaling").describe_scaling_policies(ServiceNamespace="sagemaker")[
        "ScalingPolicies"
    ]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 300.0


def test_minimum_above_maximum_is_refused_before_any_aws_call(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["autoscale", "--endpoint-name", "approval-odds", "--min-instances", "5", "--max-instances", "2"]
    status, _, err = aws.run(capsys, *args, "--target-invocations", "100")
    assert status == 1
    assert "minimum capacity 5 is above maximum capacity 2" in err
    assert aws.calls == []


def test_an_endpoint_not_in_service_cannot_be_autoscaled(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.run(capsys, *deploy_args())
    sagemaker_backends[ACCOUNT][REGION].endpoints["approval-odds"].endpoint_status = "Creating"
    status, _, err = aws.run(capsys, *autoscale_args("--target-invocations", "100"))
    assert status == 1
    assert "endpoint approval-odds is Creating: autoscaling can be set once it is InService" in err
    assert not aws.called("RegisterScalableTarget")
