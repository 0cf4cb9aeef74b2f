"""wrk driving: the command line, and post.lua's summary read back from a real wrk run on loopback."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bench.load import LUA_SCRIPT, parse_wrk, run_wrk, wrk_command


class Recorder(BaseHTTPRequestHandler):
    """Answers POST /invocations: 200 for CSV bodies, 400 for anything else; remembers what it received."""

    seen: ClassVar[list[tuple[str, str, str, bytes]]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers["Content-Type"], self.headers["Accept"], body))
        status = 200 if self.headers["Content-Type"] == "text/csv" else 400
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_wrk_command_posts_through_the_lua_script_with_one_thread(tmp_path):
    command = wrk_command("http://127.0.0.1:9", tmp_path / "b", "text/csv", "application/json", 16, 6)
    assert command[:5] == ["wrk", "--threads=1", "--connections=16", "--duration=6s", "--timeout=30s"]
    assert f"--script={LUA_SCRIPT}" in command
    assert command[-5:] == ["http://127.0.0.1:9/invocations", "--", str(tmp_path / "b"), "text/csv", "application/json"]


def test_parse_reads_the_summary_line_among_wrk_output():
    stdout = (
        "Running 6s test @ http://127.0.0.1:9/invocations\n  1 threads and 4 connections\n"
        'BENCH-JSON {"requests": 6000, "duration_us": 6000000, "p50_us": 612, "p99_us": 2480, '
        '"connect": 1, "read": 2, "write": 0, "status": 7, "timeout": 3}\n'
    )
    result = parse_wrk(stdout)
    assert (result.requests, result.req_per_s, result.p50_ms, result.p99_ms) == (6000, 1000, 0.612, 2.48)
    assert (result.non_2xx, result.socket_errors, result.errors) == (7, 6, 13)


def test_parse_rejects_output_without_a_summary():
    with pytest.raises(ValueError, match="no BENCH-JSON"):
        parse_wrk("Running 6s test\n")


def test_real_wrk_posts_the_file_body_with_both_headers(recorder, tmp_path):
    body = tmp_path / "body.csv"
    body.write_bytes(b"1,2,3\n4,5,6\n")
    result = run_wrk(recorder, body, "text/csv", "application/json", connections=2, seconds=1)
    assert result.requests > 0 and result.errors == 0
    assert result.p50_ms > 0 and result.p99_ms >= result.p50_ms
    assert set(Recorder.seen) == {("/invocations", "text/csv", "application/json", b"1,2,3\n4,5,6\n")}


def test_real_wrk_counts_error_statuses(recorder, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b"{}")
    result = run_wrk(recorder, body, "application/json", "application/json", connections=1, seconds=1)
    assert result.requests > 0
    assert result.non_2xx == result.requests
