"""A per-worker "busy" flag in a memory-mapped byte, so the launcher can drain in-flight requests on SIGTERM.

The flag is up from the moment a request's first byte reaches the worker until its response has been
handed back to MMS's Java frontend; setting a byte in a shared mapping costs nanoseconds, and the launcher
reads every worker's flag without talking to it.
"""

from __future__ import annotations

import importlib.util
import logging
import mmap
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from handler.worker.patching import Patch, PatchError
from handler.worker.socket_buffer import BufferedConnection

PREFIX = "busy-"
# The one patch of MMS itself: its worker loop's receive, called as retrieve_msg(cl_socket) once per request.
RECEIVE = Patch("multi-model-server", "mms.model_service_worker", "retrieve_msg", "handler/worker/busy.py", ("conn",))

log = logging.getLogger(__name__)


class BusyFlag:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{PREFIX}{os.getpid()}"
        with open(self.path, "wb") as handle:
            handle.write(b"\x00")
        with open(self.path, "r+b") as handle:
            self._map = mmap.mmap(handle.fileno(), 1)

    def set(self, busy: bool) -> None:
        self._map[0] = busy


def track_requests(flag: BusyFlag) -> None:
    """Raise the flag while MMS's worker loop receives a request, scores it and sends the response.

    MMS's worker loop (mms.model_service_worker.handle_connection) calls its module-level `retrieve_msg`
    once per request, after sending the previous response: wrapping that name brackets the whole exchange,
    including the transfer of large bodies over MMS's socket, which the handler itself never sees. The
    wrapper also hands MMS's parser a buffered socket (handler/worker/socket_buffer.py).

    An MMS whose loop has no such `retrieve_msg` stops the worker with one log line: without the flag, a SIGTERM
    would cut its requests. (SystemExit, because MMS's model loader logs and ignores an Exception from initialize.)
    """
    for loop in _worker_loops():
        try:
            RECEIVE.check(loop)
        except PatchError as error:
            log.error(str(error))
            raise SystemExit(1) from None
        _wrap_receive(loop, flag)


def _worker_loops() -> list[ModuleType]:
    """MMS's worker loop module in this process: none outside an MMS worker."""
    # MMS runs model_service_worker.py as a script: its loop reads globals of __main__, not of the mms module.
    spec = importlib.util.find_spec(RECEIVE.module)
    script = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    main = sys.modules.get("__main__")
    ran = getattr(main, "__file__", None)
    loops = [main] if main is not None and ran and Path(ran).resolve() == script else []
    if RECEIVE.module in sys.modules:
        loops.append(sys.modules[RECEIVE.module])
    return loops


def _wrap_receive(loop: ModuleType, flag: BusyFlag) -> None:
    # MMS's parser only calls recv(): the buffered connection stands in for the socket.
    receive: Callable[[BufferedConnection], Any] = getattr(loop, RECEIVE.name)
    if getattr(receive, "tracked", False):
        return

    buffered: dict[int, BufferedConnection] = {}

    def tracked(conn: socket.socket) -> Any:  # retrieve_msg's own parameter: RECEIVE still matches once wrapped
        reader = buffered.setdefault(id(conn), BufferedConnection(conn))
        flag.set(False)  # the previous response has been sent
        reader.wait()  # blocks until the next request starts to arrive
        flag.set(True)
        return receive(reader)

    tracked.tracked = True  # type: ignore[attr-defined]
    setattr(loop, RECEIVE.name, tracked)


def busy_pids(directory: Path) -> list[int]:
    """Pids of live workers that are handling a request right now."""
    busy = []
    for path in directory.glob(f"{PREFIX}*"):
        pid = int(path.name.removeprefix(PREFIX))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)  # a worker that died (or was replaced) leaves its flag behind
            continue
        except PermissionError:
            pass
        try:
            if path.read_bytes()[:1] == b"\x01":
                busy.append(pid)
        except FileNotFoundError:
            continue
    return busy
