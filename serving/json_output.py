"""Make every line the container prints a JSON object, whoever prints it.

MMS's launcher, the JVM and the toolkit print a few plain-text lines (warnings, "Model server started.").
The launcher points its stdout and stderr - inherited by MMS, Java and the workers - at a pipe, passes JSON
lines through unchanged and wraps any other line as {"time", "level", "logger": "stdout", "message"}.
Only start-up and shutdown print plain lines, so one thread in the launcher carries the load easily.
"""

from __future__ import annotations

import json
import os
import threading
import time
from types import TracebackType

WARNING_WORDS = (b"warn", b"error", b"exception", b"fatal")


def as_json_line(line: bytes) -> bytes:
    """`line` (without its newline) as one JSON line."""
    if line.startswith(b"{") and line.endswith(b"}"):
        return line + b"\n"
    text = line.decode("utf-8", "replace")
    lowered = line.lower()
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z",
        "level": "WARNING" if any(word in lowered for word in WARNING_WORDS) else "INFO",
        "logger": "stdout",
        "message": text,
    }
    return json.dumps(record).encode() + b"\n"


class JsonOutput:
    """While active, file descriptors 1 and 2 of this process (and its future children) feed `as_json_line`."""

    def __init__(self) -> None:
        self._saved: tuple[int, int] | None = None
        self._pump: threading.Thread | None = None

    def __enter__(self) -> JsonOutput:
        read_end, write_end = os.pipe()
        self._saved = (os.dup(1), os.dup(2))
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        self._pump = threading.Thread(target=self._forward, args=(read_end, self._saved[0]), daemon=True)
        self._pump.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._saved is not None and self._pump is not None
        for stream in (1, 2):  # restoring closes this process's write ends: the pump sees EOF once children exit
            os.dup2(self._saved[stream - 1], stream)
        self._pump.join(timeout=5)
        for saved in self._saved:
            os.close(saved)

    @staticmethod
    def _forward(read_end: int, destination: int) -> None:
        pending = b""
        with os.fdopen(read_end, "rb", buffering=0) as source:
            while chunk := source.read(65536):
                *lines, pending = (pending + chunk).split(b"\n")
                if lines:
                    os.write(destination, b"".join(as_json_line(line) for line in lines if line.strip()))
        if pending.strip():
            os.write(destination, as_json_line(pending))
