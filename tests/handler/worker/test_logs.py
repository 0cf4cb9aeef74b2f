"""Log lines are single JSON objects with time, level, logger, message and the request id."""

import json
import logging
from pathlib import Path

from handler.worker import logs


def test_records_are_json_lines_with_request_id_and_extra_fields(capsys):
    logs.configure("INFO")
    token = logs.request_id.set("req-42")
    try:
        logging.getLogger("handler").info("scored", extra={"applicants": 3})
        logging.getLogger("handler").debug("not shown at INFO")
    finally:
        logs.request_id.reset(token)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["level"] == "INFO"
    assert line["logger"] == "handler"
    assert line["message"] == "scored"
    assert line["request_id"] == "req-42"
    assert line["applicants"] == 3
    assert line["time"].endswith("Z")


def test_exceptions_are_logged_by_type_not_message(capsys):
    logs.configure("INFO")
    try:
        raise ValueError("could not convert string to float: '123-45-6789'")
    except ValueError:
        logging.getLogger("handler").exception("failed")
    out = capsys.readouterr().out
    assert json.loads(out)["exception"] == "ValueError"
    assert "123-45-6789" not in out


def test_time_is_utc_to_the_millisecond_across_second_boundaries():
    assert logs.utc_timestamp(0.999) == "1970-01-01T00:00:00.999Z"
    assert logs.utc_timestamp(1.0) == "1970-01-01T00:00:01.000Z"
    assert logs.utc_timestamp(1_796_263_323.456) == "2026-12-03T02:02:03.456Z"


def test_values_json_cannot_encode_are_written_as_their_text(capsys):
    logs.configure("INFO")
    logging.getLogger("handler").info("path", extra={"where": Path("/opt/ml/model"), "count": 2})
    line = json.loads(capsys.readouterr().out)
    assert (line["where"], line["count"]) == ("/opt/ml/model", 2)
