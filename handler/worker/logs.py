"""Structured JSON log lines for every Python process of the container.

Applicant data never reaches a log: call sites pass counts, versions and codes, never request bodies
or feature values, and exceptions from request handling are logged by type only.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import sys
import time

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# One encoder for every line: json.dumps(..., default=str) would build a new one per call (a line per request).
_ENCODER = json.JSONEncoder(default=str)


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def utc_timestamp(seconds: float) -> str:
    """Epoch seconds as the `time` member of every log line: 2026-12-03T01:02:03.456Z."""
    return _utc_second(int(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current:
            line["request_id"] = current
        # Structured fields passed with `extra=` (counts, versions, codes: never applicant values).
        line.update({key: value for key, value in record.__dict__.items() if key not in _RESERVED})
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return _ENCODER.encode(line)


def configure(level: str) -> None:
    """Send every log record of this process to stdout as one JSON line (replaces existing handlers)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # mms.service logs a metrics line per request at INFO: per-request lines cost time and say nothing useful.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "mms.service"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
