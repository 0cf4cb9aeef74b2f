"""Applicants' personal data never reaches a log: distinctive values are planted in requests of every content type —
scored, refused, and refused by MMS itself — and then searched for in every log the server writes: its stdout (Java's
and the workers' lines) and every file under LOG_DIR (MMS's own logs and metrics). The server runs at DEBUG, the
most talkative level an operator can choose. Its lines are also checked to be structured JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.support.artifacts import applicant
from tests.support.waiting import wait_for

pytestmark = pytest.mark.mms

CSV, JSON, JSONL = "text/csv", "application/json", "application/jsonlines"
ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
# Values no log line holds by chance (no timestamp, pid, port or version looks like them).
INCOME, AGE, MONTHS = 7_654_321.25, 47.318276, 913.77731
PLANTED_TEXT = ("PII-Qz7-id", "PII-Wx4-income", "PII-Kj2-attribute", "PII-Vb8-card", "PII-Hn5-header", "PII-Ry3-line")
PLANTED = (repr(INCOME), repr(AGE), repr(MONTHS), "7654321", *PLANTED_TEXT)
NAMES = list(applicant())


def planted(applicant_id: str = "PII-Qz7-id", **overrides: object) -> dict:
    return {
        "applicant_id": applicant_id,
        **applicant(annual_income=INCOME, age=AGE, months_at_address=MONTHS),
        **overrides,
    }


def csv_text(rows: list[dict], header: bool = True) -> bytes:
    columns = ["applicant_id", *NAMES] if header else NAMES
    lines = [",".join(columns)] if header else []
    return "\n".join(lines + [",".join(str(row[name]) for name in columns) for row in rows]).encode()


def jsonl_text(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


# (content type, accept, custom attributes, body, expected status): valid and invalid, every content type.
REQUESTS = [
    (JSON, JSON, None, json.dumps({"applicants": [planted()]}).encode(), 200),
    (JSON, CSV, f"trace={PLANTED_TEXT[2]}", json.dumps({"applicant": planted()}).encode(), 200),
    (CSV, JSONL, None, csv_text([planted()]), 200),
    (CSV, CSV, "top_k=2", csv_text([planted()], header=False), 200),
    (JSONL, JSON, None, jsonl_text([planted(), planted("PII-Qz7-id-2")]), 200),
    # Reason codes: contributions are derived from the values, and the refusals quote the option, not the data.
    (JSON, JSON, None, json.dumps({"applicants": [planted()], "reasons": 4}).encode(), 200),
    (JSONL, JSONL, "reasons=3; top_k=2", jsonl_text([planted(), planted("PII-Qz7-id-2")]), 200),
    (CSV, CSV, "reasons=2", csv_text([planted()]), 406),
    (JSON, JSON, None, json.dumps({"applicant": planted(), "reasons": "PII-Kj2-attribute"}).encode(), 400),
    # Refused by the handler: out of range, wrong type, unknown field, unknown card, syntax, encoding, shape.
    (JSON, JSON, None, json.dumps({"applicants": [planted(age=AGE + 200)]}).encode(), 400),
    (JSON, JSON, None, json.dumps({"applicants": [planted(annual_income="PII-Wx4-income")]}).encode(), 400),
    (JSON, JSON, None, json.dumps({"applicants": [planted(**{"PII-Ry3-line": INCOME})]}).encode(), 400),
    (JSON, JSON, None, json.dumps({"applicants": [planted()], "cards": ["PII-Vb8-card"]}).encode(), 400),
    (JSON, JSON, None, json.dumps({"applicants": [planted()]}).encode()[:-3] + b"PII-Ry3-line", 400),
    (JSON, JSON, None, json.dumps({"applicants": [planted()]}).encode("utf-16"), 400),
    (CSV, JSON, None, csv_text([planted(), planted(annual_income="PII-Wx4-income")]), 400),
    (CSV, JSON, None, csv_text([planted()]) + b",PII-Ry3-line", 400),
    (CSV, JSON, None, b"PII-Ry3-line,PII-Qz7-id\n" + csv_text([planted()], header=False), 400),
    (CSV, JSON, f"cards={PLANTED_TEXT[3]}", csv_text([planted()]), 400),
    (CSV, JSON, f"top_k={PLANTED_TEXT[2]}", csv_text([planted()]), 400),
    (JSONL, JSON, None, jsonl_text([planted()]) + b'\n{"age": PII-Ry3-line}', 400),
    (JSONL, JSON, None, jsonl_text([planted(months_at_address=-MONTHS)]), 400),
    # Refused on the headers: the body is never read, but it and the headers must not be logged either.
    (f"application/{PLANTED_TEXT[4]}", JSON, None, jsonl_text([planted()]), 415),
    (JSON, f"application/{PLANTED_TEXT[4]}", None, json.dumps({"applicant": planted()}).encode(), 406),
    (f"text/csv; charset={PLANTED_TEXT[4]}", JSON, None, csv_text([planted()]), 415),
    # Refused by MMS before the handler sees it (over the 6 MB limit).
    (CSV, JSON, None, (csv_text([planted()], header=False) + b"\n") * 160_000, 413),
]


@pytest.fixture(scope="module")
def debug_server(servers, demo_model):
    # With the EMF metrics lines on (every second) and the per-request audit line (INFO): both are searched too.
    return servers.get(
        {"MODEL_DIR": str(demo_model), "LOG_LEVEL": "DEBUG", "METRICS_EMF": "true", "METRICS_INTERVAL_SECONDS": "1"}
    )


@pytest.fixture(scope="module")
def startup_log_size(debug_server) -> int:
    """Where the request-time log lines begin (the server is ready before any request)."""
    return len(debug_server.log_text())


def all_logs(server) -> dict[str, str]:
    """Every log the server wrote: its stdout and every file under LOG_DIR."""
    found = {"stdout": server.log_text()}
    log_dir = Path(server.env["LOG_DIR"])
    for path in sorted(log_dir.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(log_dir))] = path.read_text(errors="replace")
    return found


def test_planted_applicant_values_appear_in_no_log(debug_server, startup_log_size):
    statuses = []
    for content_type, accept, custom, body, _ in REQUESTS:
        headers = {"Content-Type": content_type, "Accept": accept, **({ATTRIBUTES: custom} if custom else {})}
        answer = requests.post(debug_server.url + "/invocations", data=body, headers=headers, timeout=30)
        statuses.append(answer.status_code)
    assert statuses == [expected for *_, expected in REQUESTS]
    wait_for(lambda: '"_aws"' in debug_server.log_text()[startup_log_size:], what="an EMF line after the requests")
    logs = all_logs(debug_server)
    lines = logs["stdout"].splitlines()
    assert sum('"handler.audit"' in line for line in lines) == len(REQUESTS) - 1, "one audit line per handled request"
    leaks = [(name, value) for name, text in logs.items() for value in PLANTED if value in text]
    assert leaks == []


def test_request_time_log_lines_are_json_with_time_level_logger_message_and_request_id(debug_server, startup_log_size):
    """Lines logged while serving (start-up lines of the toolkit and MMS's launcher are not all JSON yet)."""
    requests.post(debug_server.url + "/invocations", json={"applicant": applicant()}, timeout=30)
    lines = [line for line in debug_server.log_text()[startup_log_size:].splitlines() if line.strip()]
    assert lines
    not_json = [line for line in lines if not _json_object(line)]
    assert not_json == []
    records = [json.loads(line) for line in lines]
    # MMS's Java logger re-logs each line a worker prints, the worker's own JSON record as its message.
    records += [json.loads(record["message"]) for record in records if _json_object(record.get("message", ""))]
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    invocations = [record for record in records if record["message"] == "invocation"]
    assert invocations and all(record.get("request_id") for record in invocations)


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_every_log_line_is_json_from_the_first(debug_server):
    lines = [line for line in debug_server.log_text().splitlines() if line.strip()]
    assert [line for line in lines if not _json_object(line)] == []
