"""Bench only: an MMS handler service that does no work, so a run measures the framework's own ceiling (Java
frontend, worker IPC, toolkit plumbing) with the same requests. MMS loads the one class in this module."""

from __future__ import annotations

from typing import Any

ANSWER = b'{"results": []}'


class NullHandler:
    def initialize(self, context: Any) -> None:
        self.initialized = True

    def handle(self, data: list[dict[str, Any]] | None, context: Any) -> list[bytes] | None:
        if data is None:  # MMS pings a freshly loaded model with no data
            return None
        context.set_response_content_type(0, "application/json")
        return [ANSWER] * len(data)
