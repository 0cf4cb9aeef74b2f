"""Process faults while the server is busy: a worker killed (MMS replaces it), and SIGTERM (the platform stopping the
instance). The Python backend-server dying is covered in tests/serving/test_launcher.py (the launcher exits 1).
"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from handler.artifact import load_artifact
from tests.reliability.load import CSV, JSON, JSONL, Load, applicants, request, standard_mix
from tests.support.server import Server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.mms

RECOVERY_LIMIT_SECONDS = 5.0
STOP_LIMIT_SECONDS = 30.0  # SageMaker sends SIGKILL 30 s after SIGTERM
CLIENTS = 6
NOTICE_SECONDS = 0.1  # how long MMS may take to notice a killed worker's socket closing


@pytest.fixture(scope="module")
def active_cards(demo_model) -> list[str]:
    return list(load_artifact(demo_model).bundled_catalog.active_ids)


@pytest.fixture(scope="module")
def mix(active_cards):
    return standard_mix(len(active_cards), active_cards)


def test_a_worker_killed_under_load_fails_only_its_request_and_is_replaced_within_5_s(mms, mix):
    load = Load(mms.url, mix, threads=CLIENTS).start()
    try:
        time.sleep(1.0)
        loaded, (victim, *_) = mms.loaded_workers(), sorted(mms.worker_pids())
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        # Healthy again: a replacement worker has loaded the model and both workers take requests.
        wait_for(lambda: mms.loaded_workers() > loaded and len(mms.worker_pids() - {victim}) == 2, timeout=30)
        recovery = time.monotonic() - killed_at
        time.sleep(2.0)  # the load carries on over both workers
        sent_after_recovery = load.tally.sent
        time.sleep(1.0)
    finally:
        assert load.join()
    print(f"worker-kill recovery {recovery:.2f} s; {load.tally.sent} requests, {load.tally.failed} failed")
    # The one request the dead worker held may fail; it can have left the client just after os.kill, because
    # MMS keeps handing the worker work until its socket reports the death (well under 100 ms here).
    assert load.in_flight_after(killed_at + NOTICE_SECONDS) == [], "a request sent after MMS noticed the death failed"
    assert load.tally.failed <= 1, f"more than the killed worker's one in-flight request failed: {load.tally.failures}"
    assert load.tally.sent > sent_after_recovery
    assert recovery < RECOVERY_LIMIT_SECONDS


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
        time.sleep(2.0)
        # As SageMaker's load balancer does: no new requests to an instance being stopped.
        load.stop_sending()
        sent_before = load.tally.sent
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert load.join(timeout=STOP_LIMIT_SECONDS)
        exit_code = server.process.wait(STOP_LIMIT_SECONDS)
        _, alive = psutil.wait_procs(tree, timeout=max(0.1, STOP_LIMIT_SECONDS - (time.monotonic() - signalled)))
        stopped = time.monotonic() - signalled
    finally:
        server.kill()
        servers.lock.release()
    in_flight = load.tally.sent - sent_before
    print(f"SIGTERM with {in_flight} requests in flight: all processes gone after {stopped:.2f} s")
    assert in_flight >= 1, "nothing was in flight at SIGTERM: the test proved nothing"
    assert load.tally.failures == []
    assert exit_code == 0
    assert alive == [], f"left behind: {[process.pid for process in alive]}"
    assert stopped < STOP_LIMIT_SECONDS
