"""Log lines are single JSON objects with time, level, logger, message and the request id."""

import json
import logging

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
