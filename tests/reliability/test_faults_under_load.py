"""Process faults while the server is busy: a worker killed (MMS replaces it), and SIGTERM (the platform stopping the
instance). The Python backend-server dying is covered in tests/serving/test_launcher.py (the launcher exits 1).

What is asserted is behaviour: which requests may fail, that the worker comes back, that nothing is left running.
How long recovery and stopping took is recorded as a figure (tests/support/figures.py), never asserted: these tests
must pass on a CI machine whose cores are busy with another job. The deadlines below only stop a hung test.
"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
import requests

from handler.model.artifact import load_artifact
from tests.reliability.load import CSV, JSON, JSONL, Load, applicants, request, standard_mix
from tests.support import figures
from tests.support.server import Server
from tests.support.waiting import HANG_GUARD_SECONDS, wait_for

pytestmark = pytest.mark.mms

CLIENTS = 6
ROUNDS_AFTER_RECOVERY = 2  # every request kind answered this often by the two workers once the replacement is up


@pytest.fixture(scope="module")
def active_cards(demo_model) -> list[str]:
    return list(load_artifact(demo_model).bundled_catalog.active_ids)


@pytest.fixture(scope="module")
def mix(active_cards):
    return standard_mix(len(active_cards), active_cards)


def test_a_worker_killed_under_load_fails_only_its_request_and_is_replaced(mms, mix):
    load = Load(mms.url, mix, threads=CLIENTS).start()
    try:
        wait_for(lambda: load.tally.ok >= len(mix), what="the load's first answers")
        loaded, (victim, *survivors) = mms.loaded_workers(), sorted(mms.worker_pids())
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        # Back: a new worker process has loaded the model, next to the survivor.
        wait_for(
            lambda: mms.loaded_workers() > loaded and len(mms.worker_pids() - {victim}) == 2,
            what="a replacement worker with the model loaded",
        )
        recovered_at = time.monotonic()
        (replacement,) = mms.worker_pids() - {victim, *survivors}
        # The load carries on over both workers: every request kind answered again, the replacement scoring its share.
        answered, cpu = load.tally.ok, cpu_seconds(replacement)
        wait_for(lambda: load.tally.ok >= answered + ROUNDS_AFTER_RECOVERY * len(mix), what="answers after recovery")
        replacement_worked = cpu_seconds(replacement) > cpu
    finally:
        assert load.join(), "a client was still waiting for an answer after the load stopped"
    figures.record("worker replacement after SIGKILL, under load", recovered_at - killed_at, "s")
    assert victim not in mms.worker_pids() and replacement_worked, "the replacement worker took no requests"
    assert requests.get(mms.url + "/ping", timeout=HANG_GUARD_SECONDS).json()["status"] == "Healthy"
    # The one request the dead worker held may fail (it can have left the client just after os.kill: MMS hands the
    # worker work until its socket reports the death, which a busy machine delays); nothing sent after the
    # replacement came up may.
    assert load.tally.failed <= 1, f"more than the killed worker's one in-flight request failed: {load.tally.failures}"
    assert all("Worker died" in failure.problem for failure in load.tally.failures), load.tally.failures
    assert load.in_flight_after(recovered_at) == [], "a request sent after the replacement came up failed"


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def test_sigterm_under_load_completes_every_in_flight_request_and_leaves_no_process(
    servers, demo_model, mix, active_cards, tmp_path
):
    servers.stop()  # this test needs a server of its own: it ends it
    servers.lock.acquire()
    server = Server(tmp_path / "sigterm-under-load", {"MODEL_DIR": str(demo_model)}).start()
    try:
        tree = server.tree()
        columns = len(active_cards)
        large = [request(f"{kind}x5000", kind, kind, applicants(5000, 99), columns) for kind in (JSON, CSV, JSONL)]
        load = Load(server.url, [*large, *mix], threads=CLIENTS).start()
        wait_for(lambda: load.tally.ok >= 2 * CLIENTS, what="the load's first answers")
        # As SageMaker's load balancer does: no new requests to an instance being stopped.
        load.stop_sending()
        sent_before = load.tally.sent
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert load.join(timeout=HANG_GUARD_SECONDS), "a client was still waiting for an answer"
        exit_code = server.process.wait(HANG_GUARD_SECONDS)
        _, alive = psutil.wait_procs(tree, timeout=HANG_GUARD_SECONDS)
        stopped = time.monotonic() - signalled
    finally:
        server.kill()
        servers.lock.release()
    in_flight = load.tally.sent - sent_before
    # SageMaker's 30 s before SIGKILL is kept by the launcher's own bounds (drain <= 25 s, then Java's grace), which
    # hold on any machine; how long this stop took here is a figure.
    figures.record("SIGTERM to every process gone, under load", stopped, "s", in_flight=in_flight)
    assert in_flight >= 1, "nothing was in flight at SIGTERM: the test proved nothing"
    assert load.tally.failures == []
    assert exit_code == 0
    assert alive == [], f"left behind: {[process.pid for process in alive]}"
