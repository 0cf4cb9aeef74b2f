"""S3 locations (s3://bucket/key): the one parser the settings, the catalogue refresh and the deploy tool use."""

from __future__ import annotations

import re
from typing import NamedTuple

# S3's bucket naming rules (3-63 chars, lower case, digits, dots, hyphens; starts and ends alphanumeric).
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class S3Location(NamedTuple):
    bucket: str
    key: str  # may be a prefix ending in "/", or empty for the bucket's root

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, name: str) -> S3Location:
        """`name` inside this location when it is a prefix; the location itself when it names an object."""
        if self.key and not self.key.endswith("/"):
            return self
        return S3Location(self.bucket, self.key + name)


def parse_s3_uri(raw: str) -> S3Location:
    """Parse s3://bucket[/key]; ValueError with the reason otherwise."""
    if not raw.startswith("s3://"):
        raise ValueError(f"{raw!r} is not an S3 URI: expected s3://bucket/key")
    bucket, _, key = raw.removeprefix("s3://").partition("/")
    if not BUCKET.match(bucket):
        raise ValueError(f"{raw!r} does not start with a valid bucket name (3-63 lower-case letters, digits, . or -)")
    return S3Location(bucket, key)


def parse_s3_object(raw: str) -> S3Location:
    """Parse s3://bucket/key naming one object (not the bucket, not a prefix ending in "/")."""
    location = parse_s3_uri(raw)
    if not location.key or location.key.endswith("/"):
        raise ValueError(f"{raw!r} names no object: expected s3://bucket/key")
    return location
