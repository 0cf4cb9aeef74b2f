"""The handler service on its own (no MMS): per-request counting without per-request metric lines, the audit line,
and the inference id echo. tests/handler/telemetry/test_metrics_mms.py checks the same through the real server."""

from __future__ import annotations

import inspect
import json

import pytest

from handler.worker import logs, service
from tests.support.artifacts import applicant, write_artifact
from tests.support.emf import emf_problems
from tests.support.worker_settings import use_worker_settings


class Context:
    """What MMS hands the handler for one request."""

    def __init__(self, model_dir: str, headers: dict[str, str] | None = None, request_id: str = "req-1") -> None:
        self.system_properties = {"model_dir": model_dir}
        self.headers, self.request_id = headers or {}, request_id
        self.response: dict[str, object] = {}

    def get_request_id(self, idx: int) -> str:
        return self.request_id

    def get_all_request_header(self, idx: int) -> dict[str, str]:
        return self.headers

    def set_response_content_type(self, idx: int, value: str) -> None:
        self.response["Content-Type"] = value

    def set_response_status(self, code: int, phrase: str) -> None:
        self.response["status"] = code

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        self.response[key] = value


@pytest.fixture
def handler(tmp_path, monkeypatch):
    model_dir = str(write_artifact(tmp_path / "model", n_cards=6))
    use_worker_settings(monkeypatch, tmp_path, METRICS_EMF="true", METRICS_INTERVAL_SECONDS="3600")
    handler = service.HandlerService()
    handler.initialize(Context(model_dir))
    yield handler, model_dir
    handler.publisher.close()
    handler.model.refresher.stop()


def invoke(handler, model_dir, body: bytes, **headers: str) -> Context:
    context = Context(model_dir, {"Content-Type": "application/json", **headers}, request_id="req-7")
    handler.handle([{"body": body}], context)
    return context


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_requests_are_counted_without_a_metrics_line_each_and_one_line_reports_the_interval(handler, capsys):
    handler, model_dir = handler
    logs.configure("INFO")  # bind the JSON log lines to this test's captured stdout (capsys starts after fixtures)
    body = json.dumps({"applicants": [applicant(), applicant(age=60)]}).encode()
    for _ in range(40):
        invoke(handler, model_dir, body)
    invoke(handler, model_dir, b"[", **{"Content-Type": "application/json"})
    assert [line for line in lines(capsys) if "_aws" in line] == []
    handler.publisher.flush_emf()
    (emf,) = [line for line in lines(capsys) if "_aws" in line]
    assert emf_problems(emf) == []
    assert (emf["Invocations2XX"], emf["Invocations4XX"], emf["ApplicantsScored"], emf["PairsScored"]) == (
        40,
        1,
        80,
        80 * len(handler.model.catalogs.current.active_ids),
    )
    assert emf["DecodeLatency"]["Count"] == 40 and emf["ScoreLatency"]["Count"] == 40


def test_one_audit_line_per_request_with_ids_versions_status_and_counts_but_no_applicant_value(handler, capsys):
    handler, model_dir = handler
    logs.configure("INFO")  # bind the JSON log lines to this test's captured stdout (capsys starts after fixtures)
    body = json.dumps({"applicants": [applicant(annual_income=98_765.4321)]}).encode()
    context = invoke(handler, model_dir, body, **{"X-Amzn-SageMaker-Inference-Id": "inf-1"})
    assert context.response["X-Amzn-SageMaker-Inference-Id"] == "inf-1"
    refused = invoke(handler, model_dir, body, **{"X-Amzn-SageMaker-Inference-Id": " leading space"})
    assert "X-Amzn-SageMaker-Inference-Id" not in refused.response
    invoke(handler, model_dir, b"{}", **{"Content-Type": "text/csv"})
    out = [line for line in lines(capsys) if line.get("logger") == "handler.audit"]
    assert len(out) == 3
    first = out[0]
    assert (first["request_id"], first["inference_id"], first["status"], first["applicants"]) == (
        "req-7",
        "inf-1",
        200,
        1,
    )
    assert first["cards"] == len(handler.model.catalogs.current.active_ids)
    assert first["model_version"] == handler.model.artifact.metadata.model_version
    assert first["catalog_version"] == handler.model.catalogs.current.version
    assert out[1]["inference_id"] is None
    assert out[2]["status"] == 400 and out[2]["error_code"] and out[2]["cards"] == 0
    assert "98765" not in json.dumps(out)


def test_the_handler_module_defines_exactly_one_class_as_mms_requires():
    """MMS's model loader refuses a handler module with more than one class of its own (mms/model_loader.py)."""
    own = [value for value in vars(service).values() if inspect.isclass(value) and value.__module__ == service.__name__]
    assert own == [service.HandlerService]


def test_audit_log_false_drops_the_audit_line_but_not_the_counting(tmp_path, monkeypatch, capsys):
    model_dir = str(write_artifact(tmp_path / "model", n_cards=3))
    use_worker_settings(monkeypatch, tmp_path, AUDIT_LOG="false")
    handler = service.HandlerService()
    handler.initialize(Context(model_dir))
    try:
        logs.configure("INFO")
        invoke(handler, model_dir, json.dumps({"applicant": applicant()}).encode())
        assert [line for line in lines(capsys) if line.get("logger") == "handler.audit"] == []
        assert handler.publisher.snapshot().invocations["2xx"] == 1
    finally:
        service.audit.disabled = False
        handler.publisher.close()
        handler.model.refresher.stop()
