"""Conditional GET of the card catalogue object from S3, with bounded timeouts and sanitised errors.

boto3 is configured only through the standard chain (credentials, region, AWS_ENDPOINT_URL_S3); this module adds
explicit timeouts and attempt counts, because botocore's defaults (60 s connect, 60 s read) would stall a poller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config.s3 import parse_s3_object

# A card catalogue is a few kilobytes; anything this large is a wrong object, not a catalogue.
MAX_CATALOG_BYTES = 16 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
# HTTP statuses worth retrying: throttling and server-side failures. 403/404 wait for the next poll.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class S3Error(Exception):
    """A failed fetch, described without any of the object's data (safe to log)."""

    def __init__(self, summary: str, *, transient: bool) -> None:
        super().__init__(summary)
        self.summary = summary
        self.transient = transient


@dataclass(frozen=True)
class S3Object:
    data: bytes
    etag: str | None


@dataclass(frozen=True)
class ClientLimits:
    connect_timeout: float
    read_timeout: float
    attempts: int

    def within(self, timeout: float) -> ClientLimits:
        """Limits for a call that must finish in about `timeout` seconds: one attempt, shorter timeouts."""
        return ClientLimits(min(self.connect_timeout, timeout), min(self.read_timeout, timeout), 1)


def make_client(session: boto3.session.Session, limits: ClientLimits) -> Any:
    config = Config(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        retries={"mode": "standard", "total_max_attempts": limits.attempts},
    )
    return session.client("s3", config=config)


class S3Source:
    """One S3 object, fetched only when its ETag differs from the one we hold."""

    def __init__(self, uri: str, limits: ClientLimits) -> None:
        self.uri = uri
        self.bucket, self.key = parse_s3_object(uri)  # ValueError: not s3://bucket/key
        self.limits = limits
        # Our own session (boto3's default one is not thread-safe), created once: a session loads botocore's
        # service data, far slower than creating a client from it. Clients are created under the lock.
        self._session = boto3.session.Session()
        self._clients: dict[ClientLimits, Any] = {}
        self._clients_lock = threading.Lock()

    def fetch(self, etag: str | None, *, timeout: float | None = None) -> S3Object | None:
        """The object, or None when S3 says it still has `etag` (HTTP 304). Raises S3Error.

        `timeout` bounds an on-demand fetch (one attempt, shorter timeouts); None uses the configured limits.
        """
        client = self._client(self.limits if timeout is None else self.limits.within(timeout))
        conditions = {"IfNoneMatch": etag} if etag else {}
        try:
            response = client.get_object(Bucket=self.bucket, Key=self.key, **conditions)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304:
                return None
            code = exc.response.get("Error", {}).get("Code", "?")
            raise S3Error(f"S3 answered HTTP {status} {code}", transient=status in TRANSIENT_STATUSES) from None
        except BotoCoreError as exc:
            raise S3Error(f"S3 unreachable: {type(exc).__name__}", transient=True) from None
        return S3Object(self._read_body(response), response.get("ETag"))

    def _read_body(self, response: dict[str, Any]) -> bytes:
        if response.get("ContentLength", 0) > MAX_CATALOG_BYTES:
            raise S3Error(f"S3 object is {response['ContentLength']} bytes, over {MAX_CATALOG_BYTES}", transient=False)
        body = response["Body"]
        chunks: list[bytes] = []
        size = 0
        try:
            # botocore never retries a failure here (get_object has already returned): the caller must.
            # Reading until the empty chunk makes botocore check the length against Content-Length.
            while chunk := body.read(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_CATALOG_BYTES:
                    raise S3Error(f"S3 object is over {MAX_CATALOG_BYTES} bytes", transient=False)
                chunks.append(chunk)
        except (BotoCoreError, OSError) as exc:
            raise S3Error(f"S3 body read failed: {type(exc).__name__}", transient=True) from None
        finally:
            body.close()
        return b"".join(chunks)

    def _client(self, limits: ClientLimits) -> Any:
        with self._clients_lock:
            if limits not in self._clients:
                self._clients[limits] = make_client(self._session, limits)
            return self._clients[limits]
