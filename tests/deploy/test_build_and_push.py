"""scripts/build_and_push.sh: repository, region, account and tag from arguments or the environment; the ECR
repository looked up (or created) before the build; the image built, tagged with the repository URI and pushed.

The container engine steps run with --dry-run here (there is no registry to push to); ECR is moto's."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.deploy.conftest import ACCOUNT, REGION, Aws
from tests.support.server import REPO

SCRIPT = REPO / "scripts" / "build_and_push.sh"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def run_script(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("ECR_REPOSITORY", "IMAGE_TAG")}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dry_run_creates_the_repository_and_prints_build_login_tag_push(aws: Aws) -> None:
    result = run_script("--repository", "approval-odds", "--region", REGION, "--tag", "1.4.0", "--engine", "podman",
                        "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    uri = f"{REGISTRY}/approval-odds"
    assert result.stdout == f"{uri}:1.4.0\n"
    commands = [line for line in result.stderr.splitlines() if line.startswith("+ ")]
    assert commands[0] == f"+ podman build --tag approval-odds:1.4.0 {REPO}"
    assert commands[1].endswith(f"ecr-login | podman login --username AWS --password-stdin {REGISTRY}")
    assert commands[2:] == [f"+ podman tag approval-odds:1.4.0 {uri}:1.4.0", f"+ podman push {uri}:1.4.0"]
    (repository,) = aws.client("ecr").describe_repositories()["repositories"]
    assert repository["repositoryName"] == "approval-odds"


def test_everything_can_come_from_the_environment(aws: Aws) -> None:
    result = run_script(
        "--dry-run",
        ECR_REPOSITORY="team/odds",
        AWS_REGION=REGION,
        AWS_ACCOUNT_ID=ACCOUNT,
        IMAGE_TAG="nightly",
        CONTAINER_ENGINE="docker",
        CONTAINER_BUILD_OPTS="--platform linux/amd64",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{REGISTRY}/team/odds:nightly\n"
    assert f"+ docker build --platform linux/amd64 --tag team/odds:nightly {REPO}" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", REGION], "no repository: pass --repository NAME or set ECR_REPOSITORY"),
        (["--repository", "odds", "--region", "ohio"], "region 'ohio' is not an AWS region such as us-east-1"),
        (["--repository", "odds", "--region", REGION, "--account", "12345"], "account '12345' is not a 12-digit"),
        (["--repository", "odds", "--region", REGION, "--tag", "v1:2"], "tag 'v1:2' is not a valid image tag"),
        (["--repository", "odds", "--region", REGION, "--push"], "unknown argument: --push"),
        (["--repository"], "--repository needs a value"),
        (["--repository", "Approval_Odds", "--region", REGION], "repository 'Approval_Odds' is not an ECR repository"),
    ],
)
def test_bad_arguments_exit_2_with_a_message_before_anything_runs(aws: Aws, args: list[str], message: str) -> None:
    result = run_script(*args, "--dry-run")
    assert result.returncode == 2
    assert result.stderr.startswith(f"build_and_push.sh: error: {message}")
    assert result.stdout == ""
    assert aws.client("ecr").describe_repositories()["repositories"] == []


def test_a_missing_region_is_reported(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    result = run_script("--repository", "odds", "--dry-run")
    assert result.returncode == 2
    assert "no region: pass --region REGION or set AWS_REGION" in result.stderr
