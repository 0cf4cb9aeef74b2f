"""A per-worker "busy" flag in a memory-mapped byte, so the launcher can drain in-flight requests on SIGTERM.

Setting a byte in a shared mapping costs nanoseconds, so every request can afford it; the launcher reads
the flags of all workers without talking to them.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from types import TracebackType

PREFIX = "busy-"


class BusyFlag:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{PREFIX}{os.getpid()}"
        with open(self.path, "wb") as handle:
            handle.write(b"\x00")
        with open(self.path, "r+b") as handle:
            self._map = mmap.mmap(handle.fileno(), 1)

    def __enter__(self) -> BusyFlag:
        self._map[0] = 1
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._map[0] = 0


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
