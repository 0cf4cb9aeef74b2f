"""Metrics and the audit trail through the real server: EMF lines per worker per interval, GET /metrics merged from
every worker, and one audit line per request carrying MMS's request id and SageMaker's inference id."""

from __future__ import annotations

import json

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.artifacts import applicant
from tests.support.emf import emf_problems
from tests.support.waiting import wait_for

pytestmark = pytest.mark.mms

INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"
METRICS_ENV = {
    "METRICS_EMF": "true",
    "METRICS_INTERVAL_SECONDS": "1",
    "METRICS_SNAPSHOT_SECONDS": "0.2",
    "METRICS_ENDPOINT_NAME": "odds-test",
    "METRICS_VARIANT_NAME": "blue",
}
# (applicants, content type, expected status)
REQUESTS = (
    [(1, "application/json", 200)] * 6
    + [(3, "application/json", 200)] * 4
    + [
        (1, "application/xml", 415),
        (0, "application/json", 400),
    ]
)


@pytest.fixture(scope="module")
def server(servers, demo_model):
    return servers.get({"MODEL_DIR": str(demo_model), **METRICS_ENV})


@pytest.fixture(scope="module")
def sent(server):
    """Send REQUESTS once for the module; the log offset where they begin."""
    start = len(server.log_text())
    for count, content_type, status in REQUESTS:
        body = json.dumps({"applicants": [applicant(age=30 + i) for i in range(count)]}).encode()
        answer = requests.post(
            server.url + "/invocations", data=body, headers={"Content-Type": content_type}, timeout=30
        )
        assert answer.status_code == status, answer.text
    return start


def records(server, start: int = 0) -> list[dict]:
    return [json.loads(line) for line in server.log_text()[start:].splitlines() if line.startswith("{")]


def emf_lines(server) -> list[dict]:
    return [record for record in records(server) if "_aws" in record]


def test_emf_lines_are_valid_per_worker_per_interval_and_add_up_to_the_requests(server, sent, artifact):
    valid = [status for *_, status in REQUESTS if status == 200]
    wait_for(
        lambda: sum(line["Invocations2XX"] for line in emf_lines(server)) == len(valid),
        what="every request counted in an EMF line",
    )
    lines = emf_lines(server)
    assert [problem for line in lines for problem in emf_problems(line)] == []
    assert {(line["EndpointName"], line["VariantName"]) for line in lines} == {("odds-test", "blue")}
    assert sum(line["Invocations4XX"] for line in lines) == 2
    applicants = sum(count for count, _, status in REQUESTS if status == 200)
    assert sum(line["ApplicantsScored"] for line in lines) == applicants
    cards = len(artifact.bundled_catalog.active_ids)
    assert sum(line["PairsScored"] for line in lines) == applicants * cards
    assert sum(line["ScoreLatency"]["Count"] for line in lines if "ScoreLatency" in line) == len(valid)
    # Aggregated, never per request: the lines come from the two workers' timers, not from the requests.
    assert {line["Worker"] for line in lines} == server.worker_pids()
    assert len(lines) < len(REQUESTS) or any(line["Invocations2XX"] + line["Invocations4XX"] > 1 for line in lines)
    assert all(line["Engine"] == artifact.predictor.kind for line in lines)
    assert all(line["CatalogVersion"] == artifact.bundled_catalog.version for line in lines)


def scrape(server) -> dict:
    answer = requests.get(server.url + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def total(families: dict, family: str, sample: str, **labels: str) -> float:
    return sum(
        s.value
        for s in families[family].samples
        if s.name == sample and all(s.labels.get(key) == value for key, value in labels.items())
    )


def test_get_metrics_merges_every_workers_figures_into_one_exposition(server, sent, artifact):
    wait_for(
        lambda: total(scrape(server), "approval_odds_invocations", "approval_odds_invocations_total") == len(REQUESTS),
        what="every request in the scraped counters",
    )
    families = scrape(server)
    workers = {str(pid) for pid in server.worker_pids()}
    assert total(families, "approval_odds_workers_reporting", "approval_odds_workers_reporting") == len(workers)
    assert {s.labels["worker"] for s in families["approval_odds_invocations"].samples} == workers
    assert total(families, "approval_odds_invocations", "approval_odds_invocations_total", status_class="4xx") == 2
    applicants = sum(count for count, _, status in REQUESTS if status == 200)
    assert total(families, "approval_odds_applicants_scored", "approval_odds_applicants_scored_total") == applicants
    latency = "approval_odds_stage_latency_seconds"
    assert total(families, latency, latency + "_count", stage="score") == 10
    assert total(families, latency, latency + "_bucket", stage="encode", le="+Inf") == 10
    info = families["approval_odds_info"].samples
    assert {(s.labels["engine"], s.labels["catalog_version"]) for s in info} == {
        (artifact.predictor.kind, artifact.bundled_catalog.version)
    }
    assert families["approval_odds_catalog_age_seconds"].type == "gauge"


def test_every_response_carries_mms_request_id_and_one_audit_line_logs_it_with_versions_and_counts(server, artifact):
    start = len(server.log_text())
    body = json.dumps({"applicants": [applicant(), applicant(age=50)]}).encode()
    headers = {"Content-Type": "application/json", INFERENCE_ID: "inf-2026-000042"}
    answer = requests.post(server.url + "/invocations", data=body, headers=headers, timeout=30)
    refused = requests.post(server.url + "/invocations", data=b"{", headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and refused.status_code == 400
    assert answer.headers[INFERENCE_ID] == "inf-2026-000042"
    assert INFERENCE_ID not in refused.headers
    request_ids = [answer.headers["X-Request-Id"], refused.headers["X-Request-Id"]]
    assert all(request_ids) and len(set(request_ids)) == 2

    def audit_lines() -> list[dict]:
        return [r for r in records(server, start) if r.get("logger") == "handler.audit"]

    wait_for(lambda: len(audit_lines()) == 2, what="two audit lines")
    scored, bad = audit_lines()
    assert scored["level"] == "INFO" and scored["message"] == "invocation"
    assert [scored["request_id"], bad["request_id"]] == request_ids
    assert scored["inference_id"] == "inf-2026-000042" and bad["inference_id"] is None
    assert (scored["status"], scored["error_code"], scored["applicants"]) == (200, None, 2)
    assert scored["cards"] == len(artifact.bundled_catalog.active_ids)
    assert (scored["model_version"], scored["catalog_version"]) == (
        artifact.metadata.model_version,
        artifact.bundled_catalog.version,
    )
    assert (bad["status"], bad["error_code"], bad["applicants"], bad["cards"]) == (400, "invalid_json", 0, 0)
    assert bad["catalog_version"] == artifact.bundled_catalog.version


def test_an_inference_id_that_is_no_valid_sagemaker_id_is_neither_echoed_nor_logged(server):
    body = json.dumps({"applicant": applicant()}).encode()
    headers = {"Content-Type": "application/json", INFERENCE_ID: "x" * 65}
    answer = requests.post(server.url + "/invocations", data=body, headers=headers, timeout=30)
    assert answer.status_code == 200
    assert INFERENCE_ID not in answer.headers


def test_sigterm_prints_the_last_partial_interval(servers, demo_model):
    env = {"MODEL_DIR": str(demo_model), **METRICS_ENV, "METRICS_INTERVAL_SECONDS": "3600"}
    with servers.dedicated(env) as server:
        for _ in range(3):
            body = json.dumps({"applicant": applicant()}).encode()
            answer = requests.post(server.url + "/invocations", data=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 200
        assert emf_lines(server) == []  # an hour's interval: nothing yet
        assert server.terminate() == 0
        lines = emf_lines(server)
    assert [problem for line in lines for problem in emf_problems(line)] == []
    assert sum(line["Invocations2XX"] for line in lines) == 3
