"""Busy flags let the launcher see in-flight requests in every worker without talking to them."""

import multiprocessing
import os
import socket
import sys
import threading
import time
import types

from handler.worker.busy import BusyFlag, busy_pids, track_requests


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


def test_the_flag_spans_from_the_first_request_byte_until_the_next_receive(tmp_path, monkeypatch):
    """MMS's worker loop: retrieve_msg(conn) -> handle -> send response -> retrieve_msg(conn) ..."""
    received = []
    loop = types.ModuleType("fake_mms_worker")
    loop.MXNetModelServiceWorker = object
    loop.retrieve_msg = lambda connection: received.append(connection.recv(100)) or b"I"
    monkeypatch.setitem(sys.modules, "__main__", loop)
    track_requests(BusyFlag(tmp_path))
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
