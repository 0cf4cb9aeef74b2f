"""The reference stack runs for real: nginx on a loopback port -> gunicorn sync workers -> the flask predictor."""

from __future__ import annotations

import pytest
import requests

from bench.probe import check_answer, wait_until_scores
from bench.reference_server import ReferenceServer, nginx_config
from bench.workload import request_types
from tests.support.artifacts import metadata, write_artifact


def test_nginx_config_keeps_every_file_under_its_prefix_and_listens_on_loopback_only(tmp_path):
    config = nginx_config(tmp_path, 23456, tmp_path / "g.sock")
    assert "listen 127.0.0.1:23456" in config
    assert f"server unix:{tmp_path}/g.sock;" in config
    assert f"pid {tmp_path}/nginx.pid;" in config
    assert "$proxy_add_x_forwarded_for" in config  # nginx's own variables survive the template
    assert "/var/" not in config


@pytest.fixture
def reference(tmp_path):
    server = ReferenceServer(tmp_path / "reference", write_artifact(tmp_path / "model"))
    yield server
    server.stop()


def test_the_stack_answers_every_bench_request_and_stops_completely(reference):
    reference.start(timeout=60)
    requests_ = request_types(metadata())
    wait_until_scores(reference.url, requests_[0], 30, reference.alive)
    for request in requests_:
        assert check_answer(reference.url, request) is None, request.name
    assert requests.get(reference.url + "/other", timeout=5).status_code == 404
    processes = list(reference.processes)
    reference.stop()
    assert all(process.poll() is not None for process in processes)
    with pytest.raises(requests.ConnectionError):
        requests.get(reference.url + "/ping", timeout=5)
