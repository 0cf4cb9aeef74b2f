"""The audit line through the real server (issue 15): N requests from several concurrent clients give exactly N whole
audit lines in the container's output, one per X-Request-Id, none interleaved, none repeated by Java's re-logging, no
applicant value; even when every worker is killed right after answering, and after an orderly stop. By default the
workers write it past Java, into the launcher's output pipe; with AUDIT_LOG_DIRECT=false through Java's relay, as the
workers' other lines; with AUDIT_LOG=false not at all."""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.artifacts import applicant
from tests.support.waiting import wait_for

pytestmark = pytest.mark.mms

CLIENTS, EACH = 4, 40
INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"
INCOME = 87_654.3219  # an applicant value: it must never reach the log
MARK = '"logger": "handler.audit"'
FIELDS = {"status", "error_code", "model_version", "catalog_version", "applicants", "cards", "ms", "inference_id"}
ROUTES = {"direct": {}, "relay": {"AUDIT_LOG_DIRECT": "false"}, "off": {"AUDIT_LOG": "false"}}


def send(url: str) -> dict[str, tuple[str, int]]:
    """CLIENTS concurrent clients, EACH requests each (every tenth malformed): request id -> (inference id, status)."""

    def client(number: int) -> dict[str, tuple[str, int]]:
        answered = {}
        with requests.Session() as session:
            for i in range(EACH):
                bad = i % 10 == 9
                body = b"{" if bad else json.dumps({"applicants": [applicant(annual_income=INCOME, age=30 + i)]})
                inference_id = f"inf-{number}-{i}"
                headers = {"Content-Type": "application/json", INFERENCE_ID: inference_id}
                answer = session.post(url + "/invocations", data=body, headers=headers, timeout=60)
                assert answer.status_code == (400 if bad else 200), answer.text
                answered[answer.headers["X-Request-Id"]] = (inference_id, answer.status_code)
        return answered

    with ThreadPoolExecutor(CLIENTS) as pool:
        return {key: value for answered in pool.map(client, range(CLIENTS)) for key, value in answered.items()}


def audit_lines(text: str) -> list[dict]:
    """Every line carrying the audit logger's name, parsed: a line two writes interleaved in fails here."""
    lines = [line for line in text.splitlines() if MARK in line]
    assert all(line.count(MARK) == 1 for line in lines), "two audit lines run together"
    return [json.loads(line) for line in lines]


def pipes_held(pid: int) -> set[str]:
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            held.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue  # closed meanwhile
    return held


@pytest.mark.parametrize("route", ROUTES)
def test_n_concurrent_requests_give_exactly_n_whole_audit_lines_even_when_the_workers_are_killed(
    route, servers, demo_model
):
    with servers.dedicated({"MODEL_DIR": str(demo_model), **ROUTES[route]}) as server:
        launcher_pipe = os.readlink(f"/proc/{server.process.pid}/fd/1")
        workers = server.worker_pids()
        assert [launcher_pipe in pipes_held(pid) for pid in workers] == [route == "direct"] * len(workers)
        answered = send(server.url)
        for pid in workers:  # right after the last answer: what was answered must already be on its way
            os.kill(pid, signal.SIGKILL)
        expected = 0 if route == "off" else len(answered)
        wait_for(lambda: len(audit_lines(server.log_text())) >= expected, what=f"{expected} audit lines")
        assert server.terminate() == 0
        log = server.log_text()
    ready = [json.loads(line) for line in log.splitlines() if '"message": "worker ready"' in line]
    assert {line["audit_route"] for line in ready} == {route}
    lines = audit_lines(log)
    assert len(lines) == expected  # after the stop, every line is out: none lost, none repeated
    assert "87654" not in log
    if route == "off":
        return
    assert {line["request_id"]: (line["inference_id"], line["status"]) for line in lines} == answered
    assert all(set(line) >= FIELDS and line["message"] == "invocation" for line in lines)
    assert {line["error_code"] for line in lines if line["status"] == 400} == {"invalid_json"}
    assert {(line["applicants"], line["cards"] > 0) for line in lines if line["status"] == 200} == {(1, True)}
