"""`python -m deploy COMMAND ...`: package, deploy, autoscale, transform, and the ECR steps of build_and_push.sh.

Results go to stdout as JSON (or a bare value for the ECR commands, which the shell script reads); messages go to
stderr. A bad argument exits 2 with argparse's usage line; an AWS or validation failure exits 1 with one line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

import config
from config.s3 import S3Location
from config.settings import (
    BATCH_TIMEOUT_SECONDS,
    CSV,
    DEFAULT_PAYLOAD_MB,
    MAX_PAYLOAD_MB,
    MAX_TOTAL_PAYLOAD_MB,
    MEDIA_TYPES,
)
from deploy import arguments, autoscaling, ecr, package, sagemaker, transform
from deploy.data_capture import DataCaptureSpec
from deploy.errors import DeployError

PROG = "python -m deploy"
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
Command = Callable[[argparse.Namespace, "Clients"], Any]


class Clients:
    """boto3 clients made on first use, all in the same session and region."""

    def __init__(self, session: boto3.session.Session, region: str | None) -> None:
        self.session = session
        self.region = region
        self.made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self.made:
            self.made[service] = self.session.client(service, region_name=self.region, config=CLIENT_CONFIG)
        return self.made[service]


def main(argv: Sequence[str], session: boto3.session.Session | None = None) -> int:
    args = build_parser().parse_args(argv)
    clients = Clients(session or boto3.session.Session(), args.region)
    try:
        result = args.run(args, clients)
    except DeployError as error:
        return _fail(str(error))
    except ClientError as error:
        details = error.response.get("Error", {})
        return _fail(f"AWS refused {error.operation_name}: {details.get('Code')}: {details.get('Message')}")
    except NoRegionError:
        return _fail("no AWS region: pass --region or set AWS_REGION")
    except NoCredentialsError:
        return _fail("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use a role")
    except BotoCoreError as error:
        return _fail(str(error))
    print(result if isinstance(result, str) else json.dumps(result, indent=2))
    return 0


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Ship the approval-odds model to SageMaker.")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / the profile's)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    sub = command("package", _package, "model directory → model.tar.gz, validated and uploaded to S3")
    sub.add_argument("--model-dir", type=arguments.model_directory, required=True)
    sub.add_argument("--s3-uri", type=arguments.s3_uri, required=True, help="s3://bucket/prefix/ or …/model.tar.gz")

    sub = command("model", _model, "create (or reuse) a SageMaker model; prints its name, for transform jobs")
    sub.add_argument("--name", type=arguments.sagemaker_name, required=True, help="base name; a digest is appended")
    _add_model_arguments(sub)

    sub = command("deploy", _deploy, "create or update the model, endpoint configuration and endpoint")
    sub.add_argument("--endpoint-name", type=arguments.sagemaker_name, required=True)
    _add_model_arguments(sub)
    sub.add_argument("--instance-type", type=arguments.instance_type, required=True)
    sub.add_argument("--instance-count", type=arguments.int_in(1, 100), default=1)
    sub.add_argument("--variant-name", type=arguments.sagemaker_name, default="AllTraffic")
    sub.add_argument("--wait", action="store_true", help="block until the endpoint is InService")
    sub.add_argument(
        "--metrics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="EMF metrics in CloudWatch, with this endpoint and variant as dimensions (default: on)",
    )
    capture = sub.add_argument_group("data capture (requests and responses to S3, for audit and monitoring)")
    capture.add_argument("--data-capture-s3-uri", type=arguments.s3_uri, help="s3:// prefix; turns capture on")
    capture.add_argument(
        "--data-capture-percent", type=arguments.int_in(1, 100), default=100, help="sampled share of requests"
    )
    capture.add_argument("--data-capture-kms-key", type=arguments.kms_key, help="KMS key encrypting the capture")

    sub = command("autoscale", _autoscale, "scale an endpoint variant on invocations per instance")
    sub.add_argument("--endpoint-name", type=arguments.sagemaker_name, required=True)
    sub.add_argument("--variant-name", type=arguments.sagemaker_name, default="AllTraffic")
    sub.add_argument("--min-instances", type=arguments.int_in(1, 100), required=True)
    sub.add_argument("--max-instances", type=arguments.int_in(1, 100), required=True)
    sub.add_argument(
        "--target-invocations",
        type=arguments.positive_number,
        required=True,
        help="invocations per instance per minute to hold",
    )
    sub.add_argument("--scale-in-cooldown", type=arguments.int_in(0, 86400), default=300, help="seconds")
    sub.add_argument("--scale-out-cooldown", type=arguments.int_in(0, 86400), default=60, help="seconds")

    sub = command("transform", _transform, "start a batch transform job (MultiRecord, split and assembled by line)")
    sub.add_argument("--model-name", type=arguments.sagemaker_name, required=True, help="as printed by model/deploy")
    sub.add_argument("--input", type=arguments.s3_uri, required=True, help="s3:// prefix or object to score")
    sub.add_argument("--output", type=arguments.s3_uri, required=True, help="s3:// prefix for the .out files")
    sub.add_argument("--instance-type", type=arguments.instance_type, required=True)
    sub.add_argument("--instance-count", type=arguments.int_in(1, 100), default=1)
    sub.add_argument("--job-name", type=arguments.sagemaker_name, help="default: <model name>-<UTC timestamp>")
    sub.add_argument("--content-type", choices=MEDIA_TYPES, default=CSV)
    sub.add_argument("--accept", choices=MEDIA_TYPES, default=CSV)
    sub.add_argument("--max-payload-mb", type=arguments.int_in(1, MAX_PAYLOAD_MB), default=DEFAULT_PAYLOAD_MB)
    # At least 1 MB each: more than MAX_TOTAL_PAYLOAD_MB in flight can never fit SageMaker's total.
    sub.add_argument("--max-concurrent-transforms", type=arguments.int_in(1, MAX_TOTAL_PAYLOAD_MB), default=1)
    sub.add_argument("--join-input", action="store_true", help="write each input record with its odds")
    sub.add_argument("--input-filter", help="JSONPath selecting what of each input record is sent, e.g. $[1:]")
    sub.add_argument("--output-filter", help="JSONPath selecting what of each (joined) record is written")
    sub.add_argument(
        "--invocation-timeout", type=arguments.int_in(1, 3600), default=BATCH_TIMEOUT_SECONDS, help="seconds"
    )
    sub.add_argument("--invocation-retries", type=arguments.int_in(0, 3), default=3)

    sub = command("ecr-repository", _ecr_repository, "print the ECR repository URI, creating the repository")
    sub.add_argument("--name", type=arguments.ecr_repository, required=True)
    sub.add_argument("--account", type=arguments.account_id, help="registry account (default: the caller's)")

    command("ecr-login", _ecr_login, "print a password for `docker login --username AWS --password-stdin`")
    return parser


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", type=arguments.image_uri, required=True, help="ECR image URI with tag or digest")
    parser.add_argument("--role-arn", type=arguments.role_arn, required=True, help="SageMaker execution role")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-data", type=arguments.s3_object, help="s3:// URI of an existing model.tar.gz")
    source.add_argument("--model-dir", type=arguments.model_directory, help="package and upload this directory")
    parser.add_argument("--upload-to", type=arguments.s3_uri, help="with --model-dir: where model.tar.gz goes")
    parser.add_argument(
        "--card-variables-s3-uri",
        type=arguments.s3_object,
        help="s3:// card catalogue the endpoint keeps fresh (sets CARD_VARIABLES_S3_URI)",
    )
    parser.add_argument(
        "--env",
        type=arguments.env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="container environment variable (repeatable)",
    )


def _model_spec(args: argparse.Namespace, clients: Clients) -> sagemaker.ModelSpec:
    environment = dict(args.env)
    if args.card_variables_s3_uri:
        environment["CARD_VARIABLES_S3_URI"] = args.card_variables_s3_uri.uri
    try:
        config.from_env(environment)  # the container would refuse to start with these: say so now
    except config.SettingsError as error:
        raise DeployError(f"--env: {error}") from None
    if args.model_dir is not None:
        if args.upload_to is None:
            raise DeployError("--model-dir needs --upload-to s3://bucket/prefix/ for model.tar.gz")
        model_data = _upload(args.model_dir, args.upload_to, clients).uri
    elif args.upload_to is not None:
        raise DeployError("--upload-to only goes with --model-dir")
    else:
        model_data = args.model_data.uri
    return sagemaker.ModelSpec(args.image, model_data, args.role_arn, environment)


def _upload(model_dir: Path, destination: S3Location, clients: Clients) -> S3Location:
    with tempfile.TemporaryDirectory(prefix="model-archive-") as scratch:
        archive = package.build_archive(model_dir, Path(scratch) / package.ARCHIVE_NAME)
        return package.upload_archive(clients("s3"), archive, destination)


def _package(args: argparse.Namespace, clients: Clients) -> dict[str, str]:
    return {"model_data_url": _upload(args.model_dir, args.s3_uri, clients).uri}


def _model(args: argparse.Namespace, clients: Clients) -> dict[str, str]:
    spec = _model_spec(args, clients)
    return {
        "model_name": sagemaker.ensure_model(clients("sagemaker"), args.name, spec),
        "model_data_url": spec.model_data_url,
    }


def _deploy(args: argparse.Namespace, clients: Clients) -> dict[str, str]:
    if args.metrics:
        # SageMaker tells a container neither its endpoint nor its variant: pass them; explicit --env values win.
        metrics_env = [
            ("METRICS_EMF", "true"),
            ("METRICS_ENDPOINT_NAME", args.endpoint_name),
            ("METRICS_VARIANT_NAME", args.variant_name),
        ]
        args.env = metrics_env + list(args.env)
    if args.data_capture_s3_uri is None and args.data_capture_kms_key is not None:
        raise DeployError("--data-capture-kms-key only goes with --data-capture-s3-uri")
    capture = None
    if args.data_capture_s3_uri is not None:
        capture = DataCaptureSpec(args.data_capture_s3_uri, args.data_capture_percent, args.data_capture_kms_key)
    spec = sagemaker.EndpointSpec(
        endpoint_name=args.endpoint_name,
        model=_model_spec(args, clients),
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        variant_name=args.variant_name,
        data_capture=capture,
    )
    deployment = sagemaker.deploy_endpoint(clients("sagemaker"), spec)
    if args.wait:
        sagemaker.wait_in_service(clients("sagemaker"), args.endpoint_name)
    return {**asdict(deployment), "model_data_url": spec.model.model_data_url}


def _autoscale(args: argparse.Namespace, clients: Clients) -> dict[str, str]:
    spec = autoscaling.AutoscalingSpec(
        endpoint_name=args.endpoint_name,
        variant_name=args.variant_name,
        min_capacity=args.min_instances,
        max_capacity=args.max_instances,
        target_invocations_per_instance=args.target_invocations,
        scale_in_cooldown_seconds=args.scale_in_cooldown,
        scale_out_cooldown_seconds=args.scale_out_cooldown,
    )
    arn = autoscaling.configure_autoscaling(clients("application-autoscaling"), clients("sagemaker"), spec)
    return {"policy_arn": arn, "resource_id": spec.resource_id}


def _transform(args: argparse.Namespace, clients: Clients) -> dict[str, str]:
    spec = transform.TransformSpec(
        job_name=args.job_name or transform.default_job_name(args.model_name, datetime.now(UTC)),
        model_name=args.model_name,
        input=args.input,
        output=args.output,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        content_type=args.content_type,
        accept=args.accept,
        max_payload_mb=args.max_payload_mb,
        max_concurrent_transforms=args.max_concurrent_transforms,
        join_input=args.join_input,
        input_filter=args.input_filter,
        output_filter=args.output_filter,
        invocation_timeout_seconds=args.invocation_timeout,
        invocation_max_retries=args.invocation_retries,
    )
    arn = transform.start_transform_job(clients("sagemaker"), spec)
    return {"transform_job_name": spec.job_name, "transform_job_arn": arn}


def _ecr_repository(args: argparse.Namespace, clients: Clients) -> str:
    return ecr.ensure_repository(clients("ecr"), args.name, args.account)


def _ecr_login(args: argparse.Namespace, clients: Clients) -> str:
    return ecr.login_password(clients("ecr"))
