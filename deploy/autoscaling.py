"""Target-tracking autoscaling of an endpoint variant on SageMakerVariantInvocationsPerInstance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploy.errors import DeployError

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"


@dataclass(frozen=True)
class AutoscalingSpec:
    endpoint_name: str
    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: float  # per instance per minute, SageMaker's unit for this metric
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    variant_name: str = "AllTraffic"

    @property
    def resource_id(self) -> str:
        return f"endpoint/{self.endpoint_name}/variant/{self.variant_name}"

    @property
    def policy_name(self) -> str:
        return f"{self.endpoint_name}-{self.variant_name}-invocations-per-instance"


def configure_autoscaling(autoscaling: Any, sagemaker: Any, spec: AutoscalingSpec) -> str:
    """Register the variant as a scalable target and put (create or replace) the policy; its ARN."""
    if spec.min_capacity > spec.max_capacity:
        raise DeployError(f"minimum capacity {spec.min_capacity} is above maximum capacity {spec.max_capacity}")
    # Application Auto Scaling only accepts variants of an endpoint that is InService.
    status = sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)["EndpointStatus"]
    if status != "InService":
        raise DeployError(
            f"endpoint {spec.endpoint_name} is {status}: autoscaling can be set once it is InService "
            "(deploy with --wait)"
        )
    target = {"ServiceNamespace": "sagemaker", "ResourceId": spec.resource_id, "ScalableDimension": SCALABLE_DIMENSION}
    autoscaling.register_scalable_target(**target, MinCapacity=spec.min_capacity, MaxCapacity=spec.max_capacity)
    policy = autoscaling.put_scaling_policy(
        **target,
        PolicyName=spec.policy_name,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": spec.target_invocations_per_instance,
            "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC},
            "ScaleInCooldown": spec.scale_in_cooldown_seconds,
            "ScaleOutCooldown": spec.scale_out_cooldown_seconds,
        },
    )
    return policy["PolicyARN"]
