"""What one request came to, as the handler service reports it to the metrics and the audit line.

Its own module: MMS refuses a handler module (handler/worker/service.py) that defines more than one class.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    body: bytes
    media_type: str
    status: int
    error_code: str | None
    stage_ms: tuple[float | None, float | None, float | None]  # decode, score, encode (None: not reached)
    total_ms: float
    applicants: int  # decoded
    cards: int  # scored per applicant (0 when nothing was scored)
    model_version: str
    catalog_version: str
