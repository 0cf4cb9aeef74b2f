"""ECR steps of build_and_push.sh: the repository (created once, scanned on push) and the login password."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import ACCOUNT, REGION, Aws

URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/approval-odds"


def test_repository_is_created_on_first_use_and_reused_after(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert aws.run(capsys, "ecr-repository", "--name", "team/approval-odds") == (0, URI + "\n", "")
    assert aws.called("CreateRepository") == [
        {"repositoryName": "team/approval-odds", "imageScanningConfiguration": {"scanOnPush": True}}
    ]
    assert aws.run(capsys, "ecr-repository", "--name", "team/approval-odds")[1] == URI + "\n"
    assert len(aws.called("CreateRepository")) == 1


def test_repository_in_a_named_account(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    aws.run(capsys, "ecr-repository", "--name", "approval-odds", "--account", ACCOUNT)
    assert aws.called("DescribeRepositories")[0]["registryId"] == ACCOUNT
    assert aws.called("CreateRepository")[0]["registryId"] == ACCOUNT


def test_login_prints_only_the_password(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = aws.run(capsys, "ecr-login")
    assert status == 0
    password = out.strip()
    assert password and "AWS" not in password and ":" not in password
    assert aws.operations() == ["GetAuthorizationToken"]
