"""The one class MMS loads (default_service_handler = handler.service): wiring between MMS and inference.py.

It replaces the toolkit's Transformer because that one matches content types as exact strings and
answers errors with a 500 and a traceback; here every failure becomes a JSON error with its real status.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

import config
from handler import logs
from handler.busy import BusyFlag, track_requests
from handler.codecs import encode_error, negotiate_accept
from handler.errors import INTERNAL_ERROR, RequestError
from handler.inference import Model, input_fn, model_fn, output_fn, predict_fn

CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
JSON = "application/json"
REASONS = {400: "Bad Request", 406: "Not Acceptable", 413: "Payload Too Large", 415: "Unsupported Media Type"}

log = logging.getLogger("handler")


class HandlerService:
    def __init__(self) -> None:
        self.model: Model | None = None

    def initialize(self, context: Any) -> None:
        settings = config.load()
        logs.configure(settings.log_level)
        self.model = model_fn(context.system_properties["model_dir"])
        track_requests(BusyFlag(settings.control_dir))
        log.info("worker ready", extra={"catalog_version": self.model.catalogs.current.version})

    def handle(self, data: list[dict[str, Any]] | None, context: Any) -> list[bytes] | None:
        if data is None:  # MMS pings a freshly loaded model with no data
            return None
        logs.request_id.set(context.get_request_id(0))
        body, content_type, status = self._respond(data[0], _headers(context))
        context.set_response_content_type(0, content_type)
        if status != 200:
            context.set_response_status(status, REASONS.get(status, "Internal Server Error"))
        return [body]

    def _respond(self, request: dict[str, Any], headers: dict[str, str]) -> tuple[bytes, str, int]:
        started = time.perf_counter()
        try:
            accept = negotiate_accept(headers.get("accept"), self.model.settings.default_accept)
            scoring = input_fn(_body(request), headers.get("content-type"), headers.get(CUSTOM_ATTRIBUTES), self.model)
            body, media_type = output_fn(predict_fn(scoring, self.model), accept)
            status = 200
        except RequestError as error:
            body, media_type, status = encode_error(error), JSON, error.status
        except Exception as error:
            # Frames only: an exception's message may quote applicant values.
            frames = "".join(traceback.format_tb(error.__traceback__))
            log.error("scoring failed", extra={"exception_type": type(error).__name__, "frames": frames})
            body, media_type, status = encode_error(INTERNAL_ERROR), JSON, 500
        if log.isEnabledFor(logging.DEBUG):
            log.debug("invocation", extra={"status": status, "ms": round((time.perf_counter() - started) * 1e3, 3)})
        return body, media_type, status


def _headers(context: Any) -> dict[str, str]:
    return {str(key).lower(): value for key, value in context.get_all_request_header(0).items()}


def _body(request: dict[str, Any]) -> bytes:
    """MMS hands over the raw body as bytes under "body" ("data" for form posts); no body is an empty request."""
    body = request.get("body", request.get("data"))
    return bytes(body) if body else b""
