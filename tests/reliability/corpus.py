"""The bad-input corpus (tests/corpus): one request per case, as files, and what the server must answer.

Each case is two files with the same stem:
  <name>.body  the request body, byte for byte (sent `body_repeat` times over when the sidecar says so, which keeps
               bodies over the size limit out of the repository)
  <name>.json  the sidecar: description, category, content_type (null: no Content-Type header), optional accept
               and custom_attributes, the expected status and error code (null for MMS's own empty-bodied 413),
               and optionally the row (1-based applicant) and field one of the error's details must name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SIDECAR_KEYS = frozenset(
    {"description", "category", "content_type", "accept", "custom_attributes", "body_repeat", "status", "code"}
    | {"row", "field"}
)
ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    category: str
    content_type: str | None
    status: int
    code: str | None
    accept: str | None = None
    custom_attributes: str | None = None
    body_repeat: int = 1
    row: int | None = None
    field: str | None = None

    @property
    def body(self) -> bytes:
        return (CORPUS / f"{self.name}.body").read_bytes() * self.body_repeat

    @property
    def media_type(self) -> str:
        """The media type the body is written in (a request without Content-Type is read as JSON)."""
        return (self.content_type or "application/json").split(";")[0].strip()

    def headers(self) -> dict[str, str]:
        sent = {"Content-Type": self.content_type, "Accept": self.accept, ATTRIBUTES_HEADER: self.custom_attributes}
        return {name: value for name, value in sent.items() if value is not None}

    def send(self, url: str) -> requests.Response:
        return requests.post(
            f"{url}/invocations", data=self.body, headers=self.headers(), timeout=REQUEST_TIMEOUT_SECONDS
        )


def load_case(sidecar: Path) -> Case:
    raw: dict[str, Any] = json.loads(sidecar.read_text())
    unknown = raw.keys() - SIDECAR_KEYS
    if unknown:
        raise ValueError(f"{sidecar.name}: unknown sidecar keys {sorted(unknown)}")
    return Case(name=sidecar.stem, **raw)


def load_cases() -> list[Case]:
    return [load_case(sidecar) for sidecar in sorted(CORPUS.glob("*.json"))]


def problems_with(case: Case, answer: requests.Response) -> list[str]:
    """Why `answer` is not the helpful refusal `case` expects (empty when it is)."""
    if answer.status_code != case.status:
        return [f"status {answer.status_code}, expected {case.status}: {answer.text[:300]}"]
    if case.code is None:  # MMS's own 413: sent before the handler sees the request, with an empty body
        return []
    if not answer.headers.get("Content-Type", "").startswith("application/json"):
        return [f"Content-Type {answer.headers.get('Content-Type')!r}, expected application/json"]
    try:
        error = answer.json()["error"]
    except (ValueError, KeyError, TypeError):
        return [f"not a JSON error body: {answer.text[:300]}"]
    found = []
    if error.get("code") != case.code:
        found.append(f"code {error.get('code')!r}, expected {case.code!r}")
    if not isinstance(error.get("message"), str) or not error["message"].strip():
        found.append("no message")
    if "Traceback" in answer.text:
        found.append("the body holds a traceback")
    if (case.row, case.field) != (None, None) and not any(_names(detail, case) for detail in error.get("details", [])):
        found.append(f"no detail names row {case.row} / field {case.field!r}: {error.get('details')}")
    return found


def _names(detail: dict[str, Any], case: Case) -> bool:
    return (case.row is None or detail.get("row") == case.row) and (
        case.field is None or detail.get("field") == case.field
    )
