"""Supervisor checks that need no MMS: what counts as "MMS came up without our model"."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from serving.supervisor import confirm_model_registered


def management_api(models: list[str]) -> ThreadingHTTPServer:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"models": [{"modelName": name, "modelUrl": "/m"} for name in models]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(("models", "registered"), [(["model"], True), ([], False), (["other"], False)])
def test_the_model_must_be_registered(models, registered):
    server = management_api(models)
    failures = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert confirm_model_registered(url, failures.append, timeout=10) is registered
    finally:
        server.shutdown()
    assert bool(failures) is not registered
    if failures:
        assert "without the model 'model'" in failures[0]


def test_a_silent_management_api_fails_after_the_timeout():
    failures = []
    assert confirm_model_registered("http://127.0.0.1:1", failures.append, timeout=0.5) is False
    assert "did not answer" in failures[0]
