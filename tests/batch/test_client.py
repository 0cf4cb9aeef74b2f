"""The runner's HTTP side against a real HTTP server on loopback that answers from a script."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from batch.client import ExecutionParameters, Invoker, execution_parameters
from batch.errors import TransformError
from batch.split import MiniBatch
from tests.support.server import free_port


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next (status, body) of its script; records what it was sent."""

    def __init__(self, script: list[tuple[int, bytes]]) -> None:
        super().__init__(("127.0.0.1", free_port()), Handler)
        self.script, self.received = list(script), []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def _answer(self, body: bytes) -> None:
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        status, answer = self.server.script.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted():
    servers = []

    def start(*script: tuple[int, bytes]) -> Scripted:
        server = Scripted(list(script))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


BATCH = MiniBatch(b"1,2\n3,4\n5,6\n", records=3, first_line=10, last_line=12)
PARAMETERS = {"MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 40}


def invoker(url: str) -> Invoker:
    return Invoker(url, "text/csv", "text/csv", timeout_seconds=10, pause_seconds=0)


def test_execution_parameters_come_from_the_server(scripted):
    server = scripted((200, json.dumps(PARAMETERS).encode()))
    advised = execution_parameters(server.url)
    assert (advised.max_payload_mb, advised.max_concurrent_transforms) == (40, 2)
    assert server.received[0][:2] == ("GET", "/execution-parameters")


@pytest.mark.parametrize(
    "answer",
    [(404, b""), (200, b"<html>"), (200, b'{"MaxPayloadInMB": 500, "MaxConcurrentTransforms": 1}'), (200, b"[]")],
)
def test_without_usable_execution_parameters_sagemakers_defaults_apply(scripted, answer):
    assert execution_parameters(scripted(answer).url) == ExecutionParameters(6, 1)


def test_no_server_at_all_means_sagemakers_defaults():
    assert execution_parameters(f"http://127.0.0.1:{free_port()}") == ExecutionParameters(6, 1)


def test_server_errors_are_retried_three_times_like_sagemaker(scripted):
    server = scripted((503, b"busy"), (500, b"{}"), (503, b""), (200, b"0.1\n0.2\n0.3"))
    assert invoker(server.url)(BATCH, "a.csv") == b"0.1\n0.2\n0.3"
    assert len(server.received) == 4
    method, path, headers, body = server.received[-1]
    assert (method, path, body) == ("POST", "/invocations", BATCH.payload)
    assert (headers["Content-Type"], headers["Accept"]) == ("text/csv", "text/csv")


def test_the_job_stops_after_the_last_retry(scripted):
    server = scripted(*[(503, b"")] * 4)
    with pytest.raises(TransformError, match=r"a.csv lines 10-12: HTTP 503: .* \(after 3 retries\)"):
        invoker(server.url)(BATCH, "a.csv")
    assert len(server.received) == 4


def test_a_refused_request_is_not_retried_and_its_rows_are_named_as_file_lines(scripted):
    error = {"code": "out_of_range", "message": "1 problem", "details": [{"row": 2, "field": "age", "problem": "x"}]}
    server = scripted((400, json.dumps({"error": error}).encode()))
    with pytest.raises(TransformError) as raised:
        invoker(server.url)(BATCH, "a.csv")
    assert str(raised.value) == "a.csv lines 10-12: HTTP 400: out_of_range: 1 problem (line 11 field age x)"
    assert len(server.received) == 1


def test_connection_errors_are_retried_then_reported():
    with pytest.raises(TransformError, match=r"ConnectionError.*after 3 retries"):
        invoker(f"http://127.0.0.1:{free_port()}")(BATCH, "a.csv")
