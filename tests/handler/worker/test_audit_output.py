"""Audit lines go with one write() into the pipe the launcher names, whole and never interleaved; when the pipe cannot
be opened or written, or a line is too long to be written atomically, they go through stdout (MMS's relay) instead,
and nothing is lost. tests/handler/worker/test_audit_output_mms.py checks the same through the real server."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import socket
import threading
from collections.abc import Iterator

import pytest

import config
from handler.worker import audit_output, logs

THREADS, LINES_EACH = 4, 500


@pytest.fixture
def audit() -> Iterator[logging.Logger]:
    logger = logging.getLogger("tests.audit")
    yield logger
    audit_output.configure(config.from_env({"AUDIT_LOG": "false"}), logger)  # closes the pipe handler's fd
    logger.disabled = False


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(fd)


def settings(path: str | None, **env: str) -> config.Settings:
    return config.from_env({**({"AUDIT_LOG_PIPE": path} if path else {}), **env})


def read_lines(read_end: int) -> list[str]:
    data = b""
    while select.select([read_end], [], [], 0)[0]:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode().splitlines()


def records(text: str, name: str = "tests.audit") -> list[dict]:
    return [line for line in map(json.loads, text.splitlines()) if line["logger"] == name]


def test_lines_from_several_threads_arrive_in_the_pipe_whole_one_each(audit, pipe, capsys):
    read_end, _ = pipe
    logs.configure("INFO")
    assert audit_output.configure(settings(f"/proc/self/fd/{pipe[1]}"), audit) == audit_output.DIRECT
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.extend(drain(read_end, THREADS * LINES_EACH)))
    reader.start()

    def write(thread: int) -> None:
        for i in range(LINES_EACH):
            audit.info("invocation", extra={"writer": thread, "i": i, "padding": "x" * (i % 200)})

    writers = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    reader.join(timeout=60)
    parsed = [json.loads(line) for line in received]  # every line whole: one JSON object each
    assert sorted((line["writer"], line["i"]) for line in parsed) == [
        (t, i) for t in range(THREADS) for i in range(LINES_EACH)
    ]
    assert {line["message"] for line in parsed} == {"invocation"}
    assert records(capsys.readouterr().out) == []  # nothing through the relay as well


def drain(read_end: int, count: int) -> list[str]:
    data = b""
    while data.count(b"\n") < count:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode().splitlines()


def test_the_line_keeps_the_log_line_shape_with_the_request_id(audit, pipe):
    read_end, write_end = pipe
    audit_output.configure(settings(f"/proc/self/fd/{write_end}"), audit)
    token = logs.request_id.set("req-9")
    try:
        audit.info("invocation", extra={"status": 200, "inference_id": None})
    finally:
        logs.request_id.reset(token)
    (line,) = map(json.loads, read_lines(read_end))
    assert list(line)[:5] == ["time", "level", "logger", "message", "request_id"]
    assert (line["level"], line["message"], line["request_id"], line["status"]) == ("INFO", "invocation", "req-9", 200)
    assert line["inference_id"] is None


def test_a_socket_cannot_be_opened_so_the_lines_go_through_stdout_said_once(audit, capsys):
    logs.configure("INFO")
    left, right = socket.socketpair()
    with left, right:
        route = audit_output.configure(settings(f"/proc/self/fd/{left.fileno()}"), audit)
    assert route == audit_output.RELAY
    audit.info("invocation", extra={"status": 200})
    audit.info("invocation", extra={"status": 400})
    out = capsys.readouterr().out
    assert [line["status"] for line in records(out)] == [200, 400]
    (warning,) = records(out, "handler")
    assert warning["level"] == "WARNING" and "relay" in warning["message"] and warning["reason"]


def test_a_pipe_nobody_reads_neither_blocks_the_worker_nor_loses_a_line(audit, pipe, capsys):
    read_end, write_end = pipe
    os.close(read_end)
    logs.configure("INFO")
    # Refused at open (ENXIO) where the kernel checks for readers then, else at the first write (EPIPE).
    assert audit_output.configure(settings(f"/proc/self/fd/{write_end}"), audit) in (
        audit_output.DIRECT,
        audit_output.RELAY,
    )
    audit.info("invocation", extra={"status": 200})
    out = capsys.readouterr().out
    assert [line["status"] for line in records(out)] == [200]
    assert [line["level"] for line in records(out, "handler")] == ["WARNING"]


def test_a_pipe_whose_reader_went_away_hands_every_later_line_to_stdout(audit, pipe, capsys):
    read_end, write_end = pipe
    logs.configure("INFO")
    audit_output.configure(settings(f"/proc/self/fd/{write_end}"), audit)
    audit.info("invocation", extra={"n": 1})
    assert [json.loads(line)["n"] for line in read_lines(read_end)] == [1]
    os.close(read_end)
    audit.info("invocation", extra={"n": 2})
    audit.info("invocation", extra={"n": 3})
    out = capsys.readouterr().out
    assert [line["n"] for line in records(out)] == [2, 3]
    assert len(records(out, "handler")) == 1  # said once


def test_a_line_longer_than_pipe_buf_goes_through_stdout_rather_than_risk_interleaving(audit, pipe, capsys):
    read_end, write_end = pipe
    logs.configure("INFO")
    audit_output.configure(settings(f"/proc/self/fd/{write_end}"), audit)
    audit.info("invocation", extra={"model_version": "v" * select.PIPE_BUF})
    audit.info("invocation", extra={"model_version": "short"})
    assert [json.loads(line)["model_version"] for line in read_lines(read_end)] == ["short"]
    assert [len(line["model_version"]) for line in records(capsys.readouterr().out)] == [select.PIPE_BUF]


def test_without_a_pipe_the_lines_go_through_stdout_and_audit_log_false_writes_none(audit, capsys):
    logs.configure("INFO")
    assert audit_output.configure(settings(None), audit) == audit_output.RELAY
    audit.info("invocation")
    assert len(records(capsys.readouterr().out)) == 1
    assert audit_output.configure(settings("/proc/self/fd/1", AUDIT_LOG="false"), audit) == audit_output.OFF
    audit.info("invocation")
    assert records(capsys.readouterr().out) == []


def test_the_launcher_names_its_own_stdout_unless_the_line_is_off_or_relayed():
    assert audit_output.launcher_environment(settings(None)) == {"AUDIT_LOG_PIPE": f"/proc/{os.getpid()}/fd/1"}
    for env in ({"AUDIT_LOG_DIRECT": "false"}, {"AUDIT_LOG": "false"}):
        assert audit_output.launcher_environment(settings(None, **env)) == {"AUDIT_LOG_PIPE": ""}
