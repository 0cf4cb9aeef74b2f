"""`entrypoint.py serve`: refuse a broken start with one line, own the MMS process tree, drain on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from config import from_env
from serving.mms import mms_environment
from serving.supervisor import MMS_PID_FILE
from tests.support import figures
from tests.support.artifacts import applicant, write_artifact
from tests.support.server import REPO
from tests.support.waiting import HANG_GUARD_SECONDS, wait_for

ENTRYPOINT = [sys.executable, str(REPO / "entrypoint.py")]


def run_entrypoint(
    *args: str, env: dict | None = None, timeout: float = HANG_GUARD_SECONDS
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ENTRYPOINT, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def test_unknown_arguments_print_usage_and_exit_2():
    for args in (["serve", "--port", "1"], ["bogus"], []):
        result = run_entrypoint(*args)
        assert result.returncode == 2
        assert "usage: entrypoint.py" in result.stderr


def test_invalid_configuration_stops_start_up_with_a_clear_message():
    result = run_entrypoint("serve", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "lots"})
    assert result.returncode == 1
    assert "SAGEMAKER_MODEL_SERVER_WORKERS='lots' is invalid" in result.stderr


def test_a_broken_model_stops_start_up_before_mms_with_one_line(tmp_path):
    model_dir = write_artifact(tmp_path / "model")
    (model_dir / "card_variables.csv").write_text("card_id,card_name,active\nx,X,yes\n")
    result = run_entrypoint("serve", env={"MODEL_DIR": str(model_dir)})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "cannot serve" in result.stderr and "lacks column" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_default_card_stops_start_up(tmp_path):
    model_dir = write_artifact(tmp_path / "model")
    result = run_entrypoint("serve", env={"MODEL_DIR": str(model_dir), "DEFAULT_CARDS": "card-01,gold,card-02,silver"})
    assert result.returncode == 1
    assert result.stderr.endswith(": DEFAULT_CARDS names cards the bundled catalogue lacks: 'gold', 'silver'\n")
    assert result.stderr.count("\n") == 1


def test_management_api_is_bound_to_loopback_even_when_serving_on_all_interfaces():
    env = mms_environment(from_env({"SAGEMAKER_BIND_TO_PORT": "9000", "MANAGEMENT_PORT": "9001"}), {})
    assert env["MMS_INFERENCE_ADDRESS"] == "http://0.0.0.0:9000"
    assert env["MMS_MANAGEMENT_ADDRESS"] == "http://127.0.0.1:9001"
    assert "SAGEMAKER_MODEL_SERVER_TIMEOUT" not in mms_environment(
        from_env({}), {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "60"}
    ), "MMS reads it as minutes"


def body_of(n: int) -> bytes:
    return json.dumps({"applicants": [applicant(age=20 + i % 60) for i in range(n)]}).encode()


@pytest.mark.mms
def test_management_port_listens_on_loopback_only(mms):
    java = next(p for p in mms.tree() if "java" in p.name())
    listening = {
        c.laddr.port: c.laddr.ip.removeprefix("::ffff:")
        for c in java.net_connections(kind="tcp")
        if c.status == "LISTEN"
    }
    assert listening[mms.management_port] == "127.0.0.1"


@pytest.mark.mms
def test_sigterm_finishes_in_flight_requests_then_leaves_no_process(servers, demo_model):
    with servers.dedicated({"MODEL_DIR": str(demo_model)}) as server:
        tree = server.tree()
        assert server.worker_pids() and server.backend_pids()
        results: list[requests.Response] = []
        slow = threading.Thread(
            target=lambda: results.append(
                requests.post(server.url + "/invocations", data=body_of(20_000), timeout=HANG_GUARD_SECONDS)
            )
        )
        slow.start()
        busy = server.workdir / "control"
        wait_for(lambda: any(p.read_bytes()[:1] == b"\x01" for p in busy.glob("busy-*")), what="a busy worker")
        started = time.monotonic()
        assert server.terminate(timeout=HANG_GUARD_SECONDS) == 0
        figures.record("SIGTERM with one request in flight to exit", time.monotonic() - started, "s")
        slow.join(HANG_GUARD_SECONDS)
        assert results and results[0].status_code == 200
        assert len(results[0].json()["results"]) == 20_000
        _, alive = psutil.wait_procs(tree, timeout=HANG_GUARD_SECONDS)
        assert alive == [], f"left behind: {[p.pid for p in alive]}"
        assert not MMS_PID_FILE.exists()
        assert not list(Path("/tmp").glob(".mms.sock.*"))


@pytest.mark.mms
def test_a_dead_python_backend_makes_the_container_exit_instead_of_hanging(servers, demo_model):
    with servers.dedicated({"MODEL_DIR": str(demo_model)}) as server:
        tree = server.tree()
        (backend,) = server.backend_pids()
        started = time.monotonic()
        os.kill(backend, signal.SIGKILL)
        assert server.process.wait(timeout=HANG_GUARD_SECONDS) == 1, "the launcher kept running without a backend"
        figures.record("Python backend killed to launcher exit", time.monotonic() - started, "s")
        assert "MMS cannot recover" in server.log_text()
        _, alive = psutil.wait_procs(tree, timeout=HANG_GUARD_SECONDS)
        assert alive == []


@pytest.mark.mms
def test_a_second_server_on_the_same_host_is_refused_at_once(mms, demo_model):
    result = run_entrypoint(
        "serve", env={"MODEL_DIR": str(demo_model), "SAGEMAKER_BIND_TO_PORT": "20001", "MANAGEMENT_PORT": "20002"}
    )
    assert result.returncode == 1
    assert "another multi-model-server" in result.stderr


@pytest.mark.mms
def test_sigterm_to_every_process_at_once_is_a_clean_stop(servers, demo_model):
    """Ctrl-C or `kill -TERM -PGID` signals the whole group: the backend dying then is no failure."""
    with servers.dedicated({"MODEL_DIR": str(demo_model)}) as server:
        tree = server.tree()
        for process in tree:
            process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=HANG_GUARD_SECONDS) == 0
        _, alive = psutil.wait_procs(tree, timeout=HANG_GUARD_SECONDS)
        assert alive == []
