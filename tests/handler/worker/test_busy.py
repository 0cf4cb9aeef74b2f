"""Busy flags let the launcher see in-flight requests in every worker without talking to them."""

import importlib.util
import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import types
from importlib import metadata

import pytest

from config.settings import REPO_ROOT
from handler.worker.busy import RECEIVE, BusyFlag, busy_pids, track_requests
from tests.support.artifacts import write_artifact
from tests.support.waiting import HANG_GUARD_SECONDS


def test_a_flag_is_visible_only_while_set(tmp_path):
    flag = BusyFlag(tmp_path)
    assert busy_pids(tmp_path) == []
    flag.set(True)
    assert busy_pids(tmp_path) == [os.getpid()]
    flag.set(False)
    assert busy_pids(tmp_path) == []


def _hold_flag_and_die(directory):
    BusyFlag(directory).set(True)
    os._exit(0)  # a worker killed mid-request


def test_a_dead_workers_flag_is_ignored_and_removed(tmp_path):
    child = multiprocessing.get_context("fork").Process(target=_hold_flag_and_die, args=(tmp_path,))
    child.start()
    child.join()
    assert (tmp_path / f"busy-{child.pid}").exists()
    assert busy_pids(tmp_path) == []
    assert not (tmp_path / f"busy-{child.pid}").exists()


@pytest.fixture
def run_as_mms_worker(monkeypatch):
    """Make this process look like an MMS worker: MMS runs its worker loop as the script __main__."""
    monkeypatch.delitem(sys.modules, RECEIVE.module, raising=False)  # only the loop given here is patched

    def run(**attributes):
        loop = types.ModuleType("__main__")
        loop.__file__ = importlib.util.find_spec(RECEIVE.module).origin
        loop.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, "__main__", loop)
        return loop

    return run


def test_the_flag_spans_from_the_first_request_byte_until_the_next_receive(tmp_path, run_as_mms_worker):
    """MMS's worker loop: retrieve_msg(conn) -> handle -> send response -> retrieve_msg(conn) ..."""
    received = []
    loop = run_as_mms_worker(retrieve_msg=lambda conn: received.append(conn.recv(100)) or b"I")
    track_requests(BusyFlag(tmp_path))
    track_requests(BusyFlag(tmp_path))  # once wrapped, never twice
    frontend, worker = socket.socketpair()
    states = []
    reader = threading.Thread(target=lambda: (loop.retrieve_msg(worker), states.append(busy_pids(tmp_path))))
    reader.start()
    time.sleep(0.1)
    assert busy_pids(tmp_path) == [], "waiting for a request is idle"
    frontend.sendall(b"request")
    reader.join(5)
    assert received == [b"request"]
    assert states == [[os.getpid()]], "busy while the request is handled and its response sent"
    frontend.sendall(b"next")
    loop.retrieve_msg(worker)
    frontend.close()
    worker.close()


def test_outside_an_mms_worker_nothing_is_patched(tmp_path, monkeypatch):
    script = types.ModuleType("__main__")
    script.__file__ = str(tmp_path / "some_script.py")
    script.retrieve_msg = receive = lambda conn: b"I"
    monkeypatch.setitem(sys.modules, "__main__", script)
    monkeypatch.delitem(sys.modules, RECEIVE.module, raising=False)
    track_requests(BusyFlag(tmp_path))
    assert script.retrieve_msg is receive


@pytest.mark.parametrize(
    ("loop", "problem"),
    [
        ({}, "has no model_service_worker.retrieve_msg: this container patches it"),
        (
            {"retrieve_msg": lambda conn, timeout: b"I"},
            "has model_service_worker.retrieve_msg(conn, timeout), not (conn): this container replaces it",
        ),
    ],
    ids=["missing", "other parameters"],
)
def test_an_mms_without_the_receive_it_patches_stops_the_worker_with_one_line(
    tmp_path, run_as_mms_worker, caplog, loop, problem
):
    run_as_mms_worker(**loop)
    with pytest.raises(SystemExit) as stopped:
        track_requests(BusyFlag(tmp_path))
    assert stopped.value.code == 1
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (
            logging.ERROR,
            f"multi-model-server {metadata.version('multi-model-server')} {problem}; "
            "pin the version in requirements.txt or update handler/worker/busy.py",
        )
    ]


def test_mms_cannot_load_the_handler_in_a_worker_whose_loop_lacks_retrieve_msg(tmp_path):
    """Through MMS's own model loader, which logs an Exception from initialize and serves on: the worker exits
    instead, after one JSON line naming the attribute, and nothing else is logged as an error."""
    model_dir = write_artifact(tmp_path / "model")
    worker = (
        "import importlib.util, sys, types\n"
        "loop = types.ModuleType('__main__')\n"
        "loop.__file__ = importlib.util.find_spec('mms.model_service_worker').origin\n"
        "sys.modules['__main__'] = loop  # MMS's worker script, from a release without retrieve_msg\n"
        "from mms.model_loader import ModelLoaderFactory\n"
        "model_dir = sys.argv[1]\n"
        "ModelLoaderFactory.get_model_loader(model_dir).load('model', model_dir, 'handler.worker.service', None, 1)\n"
        "print('loaded')\n"
    )
    env = {**os.environ, "MODEL_DIR": str(model_dir), "CONTROL_DIR": str(tmp_path / "control")}
    env["CARD_VARIABLES_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, "-c", worker, str(model_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["message"] for line in lines if line["level"] == "ERROR"] == [
        f"multi-model-server {metadata.version('multi-model-server')} has no model_service_worker.retrieve_msg: "
        "this container patches it; pin the version in requirements.txt or update handler/worker/busy.py"
    ]
    assert "loaded" not in result.stdout
    assert "Traceback" not in result.stderr
