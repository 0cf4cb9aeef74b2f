"""The framework ceiling: the real MMS set-up of `entrypoint.py serve` with bench.null_handler in place of ours."""

from __future__ import annotations

import pytest
import requests

from bench.null_handler import ANSWER
from bench.probe import wait_until_scores
from bench.servers import CeilingServer
from bench.workload import request_types
from tests.support.artifacts import metadata
from tests.support.server import HostLock

pytestmark = pytest.mark.mms


@pytest.fixture
def ceiling(servers, demo_model, tmp_path):
    servers.stop()  # the session's product server holds the one MMS slot (and the lock) of this host
    lock = HostLock()
    lock.acquire()
    server = CeilingServer(tmp_path / "ceiling", {"MODEL_DIR": str(demo_model)})
    try:
        yield server.start()
    finally:
        try:
            server.terminate()
        finally:
            lock.release()


def test_every_request_gets_the_constant_answer_from_every_worker(ceiling):
    csv_1000 = request_types(metadata())[2]
    wait_until_scores(ceiling.url, csv_1000, 30, lambda: ceiling.process.poll() is None)
    answers = [
        requests.post(
            ceiling.url + "/invocations", data=csv_1000.body, headers={"Content-Type": "text/csv"}, timeout=10
        )
        for _ in range(10)
    ]
    assert {(answer.status_code, answer.content) for answer in answers} == {(200, ANSWER)}
    assert answers[0].headers["Content-Type"].startswith("application/json")
    assert ceiling.loaded_workers() == 2


def test_the_ceiling_stops_like_ours_and_leaves_nothing_behind(ceiling):
    tree = ceiling.tree()
    assert ceiling.worker_pids() and ceiling.backend_pids()
    assert ceiling.terminate() == 0
    assert not any(process.is_running() and process.status() != "zombie" for process in tree)
