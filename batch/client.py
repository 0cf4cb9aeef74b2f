"""HTTP to the running server: its /execution-parameters, and /invocations with SageMaker's retries."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import requests

from batch.errors import TransformError
from batch.split import MiniBatch
from config.parsing import is_whole_in
from config.settings import BATCH_TIMEOUT_SECONDS, DEFAULT_PAYLOAD_MB, MAX_CONCURRENT_TRANSFORMS, MAX_PAYLOAD_MB

# SageMaker's defaults when neither the job nor the container says (CreateTransformJob documentation).
DEFAULT_CONCURRENCY = 1
ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
RETRIES = 3  # SageMaker retries a failed invocation up to 3 times (ModelClientConfig.InvocationsMaxRetries)
RETRY_PAUSE_SECONDS = 1.0  # doubled after each failed attempt: 1, 2, 4 s
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class ExecutionParameters:
    max_payload_mb: int = DEFAULT_PAYLOAD_MB
    max_concurrent_transforms: int = DEFAULT_CONCURRENCY
    source: str = "SageMaker's defaults"


def execution_parameters(url: str) -> ExecutionParameters:
    """What the server's GET /execution-parameters advises; SageMaker's defaults when it says nothing usable."""
    try:
        answer = requests.get(url + "/execution-parameters", timeout=(CONNECT_TIMEOUT_SECONDS, 10))
        values = answer.json() if answer.status_code == 200 else {}
    except (requests.RequestException, json.JSONDecodeError):
        values = {}
    if not isinstance(values, dict):
        values = {}
    payload, concurrency = values.get("MaxPayloadInMB"), values.get("MaxConcurrentTransforms")
    if not (is_whole_in(payload, 1, MAX_PAYLOAD_MB) and is_whole_in(concurrency, 1, MAX_CONCURRENT_TRANSFORMS)):
        return ExecutionParameters()
    return ExecutionParameters(payload, concurrency, f"{url}/execution-parameters")


@dataclass(frozen=True)
class Invoker:
    """POSTs payloads to /invocations; connection errors and 5xx are retried, a 4xx is the job's end."""

    url: str
    content_type: str
    accept: str
    timeout_seconds: float = BATCH_TIMEOUT_SECONDS  # SageMaker's default InvocationsTimeoutInSeconds
    custom_attributes: str | None = None  # X-Amzn-SageMaker-Custom-Attributes, e.g. "reasons=4"
    retries: int = RETRIES
    pause_seconds: float = RETRY_PAUSE_SECONDS

    def __call__(self, batch: MiniBatch, file: str) -> bytes:
        headers = {"Content-Type": self.content_type, "Accept": self.accept}
        if self.custom_attributes:
            headers[ATTRIBUTES_HEADER] = self.custom_attributes
        failure = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.pause_seconds * 2 ** (attempt - 1))
            try:
                answer = requests.post(
                    self.url + "/invocations",
                    data=batch.payload,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds),
                )
            except requests.RequestException as exc:
                failure = f"{type(exc).__name__}: {exc}"
                continue
            if answer.status_code == 200:
                return answer.content
            failure = f"HTTP {answer.status_code}: {_error_text(answer, batch)}"
            if answer.status_code < 500:
                break
        else:
            failure += f" (after {self.retries} retries)"
        raise TransformError(f"{file} lines {batch.first_line}-{batch.last_line}: {failure}")


def _error_text(answer: requests.Response, batch: MiniBatch) -> str:
    """The server's error message with its details' rows as file lines, or the start of whatever else it said."""
    try:
        error = answer.json()["error"]
        details = "; ".join(_detail_text(detail, batch) for detail in error.get("details", [])[:5])
        return f"{error['code']}: {error['message']}" + (f" ({details})" if details else "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return answer.text[:300] or answer.reason or "no body"


def _detail_text(detail: dict[str, object], batch: MiniBatch) -> str:
    row, field = detail.get("row"), detail.get("field")
    where = [batch.line_of(row) if type(row) is int else "", f"field {field}" if field else ""]
    return " ".join(filter(None, [*where, str(detail.get("problem", ""))]))
