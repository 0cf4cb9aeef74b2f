"""argparse `type=` converters: each rejects a bad value with a message that says what is expected."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from config.parsing import argument, whole_in
from config.s3 import S3Location, parse_s3_object, parse_s3_uri

# SageMaker resource names (models, endpoints, configs, jobs).
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")
# registry/repository[:tag] or @sha256:digest — SageMaker pulls from ECR only, so a registry host is required.
IMAGE_URI = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w.-]{1,128}|@sha256:[0-9a-f]{64})$")
ECR_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A KMS key id, key ARN, alias name or alias ARN (what DataCaptureConfig's KmsKeyId accepts).
KMS_KEY = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[\w/+=,.@-]{1,250}"
    r"|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/[\w-]{1,128}|alias/[\w/+=,.@-]{1,250}))$"
)


def _matching(pattern: re.Pattern[str], expected: str) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        if not pattern.match(raw):
            raise argparse.ArgumentTypeError(f"{raw!r} is not {expected}")
        return raw

    return convert


sagemaker_name = _matching(SAGEMAKER_NAME, "a SageMaker name (1-63 letters, digits and hyphens)")
role_arn = _matching(ROLE_ARN, "an IAM role ARN such as arn:aws:iam::123456789012:role/SageMakerExecution")
instance_type = _matching(INSTANCE_TYPE, "a SageMaker instance type such as ml.m5.large")
image_uri = _matching(
    IMAGE_URI, "an image URI with a tag or digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/name:1.0"
)
ecr_repository = _matching(ECR_REPOSITORY, "an ECR repository name (lower-case letters, digits, . _ - and /)")
account_id = _matching(ACCOUNT_ID, "a 12-digit AWS account id")
kms_key = _matching(KMS_KEY, "a KMS key id, key ARN, alias/name or alias ARN")


s3_uri: Callable[[str], S3Location] = argument(parse_s3_uri)
s3_object: Callable[[str], S3Location] = argument(parse_s3_object)


def int_in(low: int, high: int) -> Callable[[str], int]:
    return argument(whole_in(low, high))


def positive_number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):  # also rejects NaN
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive number")
    return value


def env_pair(raw: str) -> tuple[str, str]:
    name, separator, value = raw.partition("=")
    if not separator or not ENV_NAME.match(name):
        raise argparse.ArgumentTypeError(f"{raw!r} is not NAME=VALUE with NAME made of letters, digits and _")
    return name, value


def model_directory(raw: str) -> Path:
    path = Path(raw)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{raw!r} is not a directory")
    return path
