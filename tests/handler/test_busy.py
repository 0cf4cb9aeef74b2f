"""Busy flags let the launcher see in-flight requests in every worker without talking to them."""

import multiprocessing
import os

from handler.busy import BusyFlag, busy_pids


def test_a_flag_is_visible_only_while_a_request_is_in_flight(tmp_path):
    flag = BusyFlag(tmp_path)
    assert busy_pids(tmp_path) == []
    with flag:
        assert busy_pids(tmp_path) == [os.getpid()]
    assert busy_pids(tmp_path) == []


def test_an_exception_still_clears_the_flag(tmp_path):
    flag = BusyFlag(tmp_path)
    try:
        with flag:
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert busy_pids(tmp_path) == []


def _hold_flag_and_die(directory):
    BusyFlag(directory).__enter__()
    os._exit(0)  # a worker killed mid-request


def test_a_dead_workers_flag_is_ignored_and_removed(tmp_path):
    child = multiprocessing.get_context("fork").Process(target=_hold_flag_and_die, args=(tmp_path,))
    child.start()
    child.join()
    assert (tmp_path / f"busy-{child.pid}").exists()
    assert busy_pids(tmp_path) == []
    assert not (tmp_path / f"busy-{child.pid}").exists()
