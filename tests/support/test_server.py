"""Servers, the suite's one MMS at a time: a server that fails to start is killed and the host lock freed, so the
error is the only thing it leaves (not an MMS holding the host for every later test and teammate)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.support.server import Servers
from tests.support.waiting import wait_for

pytestmark = pytest.mark.mms


def processes_under(root: Path) -> list[psutil.Process]:
    """Live processes of any server started in `root` (launcher, Java, backend, workers: all inherit its LOG_DIR)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and process.environ().get("LOG_DIR", "").startswith(str(root)):
                found.append(process)
        except psutil.Error:
            continue
    return found


def assert_nothing_left(servers: Servers, root: Path) -> None:
    assert not servers.lock.held
    assert servers.current is None
    wait_for(lambda: not processes_under(root), what="every process of the failed server gone")


def test_a_server_that_exits_during_start_leaves_the_host_lock_free(tmp_path: Path) -> None:
    servers = Servers(tmp_path)
    with pytest.raises(RuntimeError, match="server exited"):
        servers.get({"MODEL_DIR": str(tmp_path / "no-such-model")})
    assert_nothing_left(servers, tmp_path)


def test_a_server_still_starting_at_the_hang_guard_is_killed_with_its_whole_tree(
    tmp_path: Path, demo_model: Path
) -> None:
    # A start limit far below MMS's start-up: TimeoutError (not "server exited") means it was running when it fired.
    servers = Servers(tmp_path, start_timeout=2.0)
    with pytest.raises(TimeoutError, match="not ready"):
        servers.get({"MODEL_DIR": str(demo_model)})
    assert_nothing_left(servers, tmp_path)


def test_a_dedicated_server_that_fails_to_start_leaves_the_host_lock_free(tmp_path: Path) -> None:
    servers = Servers(tmp_path)
    with pytest.raises(RuntimeError, match="server exited"), servers.dedicated({"MODEL_DIR": str(tmp_path / "none")}):
        pytest.fail("a server without a model must not start")
    assert_nothing_left(servers, tmp_path)
