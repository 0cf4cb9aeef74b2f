"""The file protocol through which `GET /updateccdata` (a Java MMS plugin) asks every worker to refresh now.

MMS gives a plugin no channel to its Python workers, so they meet in a directory (settings.control_dir):

    workers/<pid>.json  written by each worker's refresher when it starts: "I am a live worker, ask me"
    request             a decimal request id, rewritten atomically by the plugin for each call (ids only grow)
    acks/<pid>.json     the worker's answer: {"pid", "request_id", "status", "catalog_version", "cards", "error"}

Each refresher polls `request` about once a second (and answers the one it finds at start); a refresh started after
a request was written answers it and every earlier one, so the plugin accepts any ack whose request_id is at least
its own.
plugins/updateccdata/ implements the other side; keep both in step.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from handler.files import write_atomically

REQUEST_FILE = "request"
WORKERS_DIR = "workers"
ACKS_DIR = "acks"


class ControlChannel:
    def __init__(self, directory: Path, pid: int | None = None) -> None:
        self.directory = directory
        self.pid = os.getpid() if pid is None else pid
        self._handled = 0

    def register(self) -> None:
        """Announce this worker. A request already waiting is answered too (the plugin may be waiting for us):
        at worst one extra conditional GET, which S3 answers with a cheap 304."""
        record = {"pid": self.pid, "started_at": time.time()}
        write_atomically(self.directory / WORKERS_DIR / f"{self.pid}.json", json.dumps(record).encode())

    def unregister(self) -> None:
        for path in (self.directory / WORKERS_DIR / f"{self.pid}.json", self.directory / ACKS_DIR / f"{self.pid}.json"):
            with contextlib.suppress(OSError):
                path.unlink()

    def poll(self) -> int | None:
        """The id of a request this worker has not answered yet, or None."""
        request = self._read_request()
        if request is None or request <= self._handled:
            return None
        return request

    def acknowledge(self, request_id: int, result: dict[str, Any]) -> None:
        self._handled = max(self._handled, request_id)
        answer = {**result, "pid": self.pid, "request_id": request_id}
        write_atomically(self.directory / ACKS_DIR / f"{self.pid}.json", json.dumps(answer).encode())

    def _read_request(self) -> int | None:
        try:
            return int((self.directory / REQUEST_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):  # absent, or not ours: nothing to answer
            return None
