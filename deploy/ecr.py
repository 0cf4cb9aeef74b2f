"""The ECR side of pushing the image: the repository (created on first push) and a registry login password."""

from __future__ import annotations

import base64
from typing import Any

from botocore.exceptions import ClientError

from deploy.errors import DeployError


def ensure_repository(ecr: Any, name: str, account: str | None = None) -> str:
    """The repository's URI (registry/name), creating the repository, scanned on push, if it does not exist."""
    registry = {"registryId": account} if account else {}
    try:
        found = ecr.describe_repositories(repositoryNames=[name], **registry)["repositories"][0]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
            raise
        found = ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True}, **registry)[
            "repository"
        ]
    return found["repositoryUri"]


def login_password(ecr: Any) -> str:
    """The password for `docker login --username AWS` to this account's registry (valid 12 hours)."""
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    if user != "AWS" or not password:
        raise DeployError("ECR returned an authorization token of an unexpected form")
    return password
