"""AWS for the deploy tests: moto's server on loopback (SageMaker, S3, ECR, Application Auto Scaling), reset per
test, with every boto3 call the code under test makes recorded with its parameters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer

from deploy.cli import main

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/approval-odds:1.0"


def _update_endpoint(self: SageMakerResponse) -> ActionResult:
    """UpdateEndpoint, which moto 5.2 lacks, with SageMaker's effect: the endpoint now runs the new config."""
    name, config_name = self._get_param("EndpointName"), self._get_param("EndpointConfigName")
    endpoint = self.sagemaker_backend.endpoints.get(name)
    if endpoint is None:
        raise ValidationError(message=f"Could not find endpoint '{name}'.")
    config = self.sagemaker_backend.describe_endpoint_config(config_name)
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
    return ActionResult({"EndpointArn": endpoint.arn})


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SageMakerResponse, "update_endpoint", _update_endpoint, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@dataclass
class Aws:
    """The fake AWS of one test: a boto3 session for the code under test and the calls it made."""

    url: str
    session: boto3.session.Session
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        """A client for arranging and inspecting state; its calls are not recorded."""
        return boto3.session.Session(region_name=REGION).client(service)

    def called(self, operation: str) -> list[dict[str, Any]]:
        """The parameters of each call to `operation` (e.g. "CreateModel"), in order."""
        return [params for _, name, params in self.calls if name == operation]

    def operations(self, service: str | None = None) -> list[str]:
        return [name for called_service, name, _ in self.calls if service in (None, called_service)]

    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        """`python -m deploy --region REGION *argv` in-process: exit status, stdout, stderr."""
        capsys.readouterr()
        try:
            status = main(["--region", REGION, *argv], session=self.session)
        except SystemExit as exit_:  # argparse's way of rejecting an argument
            status = exit_.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Aws:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    aws = Aws(url=moto_url, session=boto3.session.Session())

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        aws.calls.append((model.service_model.service_name, model.name, dict(params)))

    aws.session.events.register("provide-client-params.*.*", record)
    return aws
