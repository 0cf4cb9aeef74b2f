"""The one class MMS loads (default_service_handler = handler.worker.service): wiring between MMS and inference.py.

It replaces the toolkit's Transformer because that one matches content types as exact strings and
answers errors with a 500 and a traceback; here every failure becomes a JSON error with its real status.
It also times the three stages of every request for the metrics (telemetry/metrics.py) and writes the audit line.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import traceback
from typing import Any

import config
from handler.codecs import encode_error, negotiate_accept
from handler.codecs.media import JSON
from handler.errors import INTERNAL_ERROR, RequestError
from handler.telemetry.metrics import Recorder, WorkerState
from handler.telemetry.publisher import MetricsPublisher
from handler.worker import audit_output, logs
from handler.worker.busy import BusyFlag, track_requests
from handler.worker.inference import Model, input_fn, model_fn, output_fn, predict_fn
from handler.worker.outcome import Outcome

CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
INFERENCE_ID = "x-amzn-sagemaker-inference-id"
INFERENCE_ID_HEADER = "X-Amzn-SageMaker-Inference-Id"
# InvokeEndpoint's InferenceId: 1-64 printable characters, the first not a space. Anything else is not echoed.
VALID_INFERENCE_ID = re.compile(r"[!-~][ -~]{0,63}")

REASONS = {400: "Bad Request", 406: "Not Acceptable", 413: "Payload Too Large", 415: "Unsupported Media Type"}

log = logging.getLogger("handler")
# One line per request: what a decision was made with (ids, versions, counts), never what it was made from.
audit = logging.getLogger("handler.audit")


class HandlerService:
    def __init__(self) -> None:
        self.model: Model | None = None
        self.recorder = Recorder()
        self.publisher: MetricsPublisher | None = None
        self.started_at = time.time()

    def initialize(self, context: Any) -> None:
        settings = config.load()
        logs.configure(settings.log_level)
        self.model = model_fn(context.system_properties["model_dir"])
        self.started_at = time.time()
        track_requests(BusyFlag(settings.control_dir))
        self.publisher = MetricsPublisher(self.recorder, self.worker_state, settings).start()
        route = audit_output.configure(settings, audit)
        log.info("worker ready", extra={"catalog_version": self.model.catalogs.current.version, "audit_route": route})

    def handle(self, data: list[dict[str, Any]] | None, context: Any) -> list[bytes] | None:
        if data is None:  # MMS pings a freshly loaded model with no data
            return None
        logs.request_id.set(context.get_request_id(0))
        headers = _headers(context)
        outcome = self._respond(data[0], headers)
        context.set_response_content_type(0, outcome.media_type)
        if outcome.status != 200:
            context.set_response_status(outcome.status, REASONS.get(outcome.status, "Internal Server Error"))
        inference_id = headers.get(INFERENCE_ID)
        if inference_id is not None and not VALID_INFERENCE_ID.fullmatch(inference_id):
            inference_id = None
        if inference_id is not None:
            context.set_response_header(0, INFERENCE_ID_HEADER, inference_id)
        self.recorder.record(outcome.status, outcome.stage_ms, outcome.applicants, outcome.applicants * outcome.cards)
        audit.info(
            "invocation",
            extra={
                "inference_id": inference_id,
                "status": outcome.status,
                "error_code": outcome.error_code,
                "model_version": outcome.model_version,
                "catalog_version": outcome.catalog_version,
                "applicants": outcome.applicants,
                "cards": outcome.cards,
                "ms": round(outcome.total_ms, 3),
            },
        )
        return [outcome.body]

    def _respond(self, request: dict[str, Any], headers: dict[str, str]) -> Outcome:
        clock = time.perf_counter
        marks = [clock()]
        applicants = cards = 0
        model = self.model
        model_version = catalog_version = ""
        try:
            if model is None:
                raise RuntimeError("a request reached the handler before initialize()")
            model_version, catalog_version = model.artifact.metadata.model_version, model.catalogs.current.version
            accept = negotiate_accept(headers.get("accept"), model.settings.default_accept)
            scoring = input_fn(_body(request), headers.get("content-type"), headers.get(CUSTOM_ATTRIBUTES), model)
            marks.append(clock())
            applicants = len(scoring)
            prediction = predict_fn(scoring, model)
            marks.append(clock())
            catalog_version, cards = prediction.catalog_version, len(prediction.card_ids)  # the one it was scored with
            body, media_type = output_fn(prediction, accept)
            marks.append(clock())
            status, code = 200, None
        except RequestError as error:
            body, media_type, status, code = encode_error(error), JSON, error.status, error.code
        except Exception as error:
            # Frames only: an exception's message may quote applicant values.
            frames = "".join(traceback.format_tb(error.__traceback__))
            log.error("scoring failed", extra={"exception_type": type(error).__name__, "frames": frames})
            body, media_type, status, code = encode_error(INTERNAL_ERROR), JSON, 500, INTERNAL_ERROR.code
        total_ms = (clock() - marks[0]) * 1e3
        durations = [(end - start) * 1e3 for start, end in itertools.pairwise(marks)]  # the stages completed
        decode, score, encode = (*durations, None, None, None)[:3]
        stage_ms = (decode, score, encode)
        return Outcome(
            body, media_type, status, code, stage_ms, total_ms, applicants, cards, model_version, catalog_version
        )

    def worker_state(self) -> WorkerState:
        """The gauges of this worker's metrics (called by the publisher thread, off the request path)."""
        assert self.model is not None
        model = self.model
        stats = model.refresher.stats()
        since_success = None
        if model.settings.card_variables_s3_uri:
            since_success = time.time() - (stats.last_success_at or self.started_at)
        return WorkerState(
            engine=model.artifact.predictor.kind,
            model_version=model.artifact.metadata.model_version,
            catalog_version=stats.catalog_version,
            catalog_age_seconds=stats.catalog_age_seconds,
            seconds_since_refresh_success=since_success,
            refresh_successes=stats.successes,
            refresh_failures=stats.failures,
            refresh_rejections=stats.rejected,
        )


def _headers(context: Any) -> dict[str, str]:
    return {str(key).lower(): value for key, value in context.get_all_request_header(0).items()}


def _body(request: dict[str, Any]) -> bytes:
    """MMS hands over the raw body as bytes under "body" ("data" for form posts); no body is an empty request."""
    body = request.get("body", request.get("data"))
    return bytes(body) if body else b""
