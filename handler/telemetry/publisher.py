"""The side thread that takes a worker's figures off the request path: every METRICS_SNAPSHOT_SECONDS it writes the
worker's Prometheus exposition to CONTROL_DIR/metrics/<pid>.prom (read by the GET /metrics plugin), and with
METRICS_EMF every METRICS_INTERVAL_SECONDS it prints one EMF line for the interval. `close()` (at worker exit, or
any time) prints the last, partial interval and removes the worker's file; it runs once.

The last interval must be printed while MMS's Java frontend still relays the worker's stdout: on SIGTERM the launcher,
once requests have drained, sends FINAL_FLUSH_SIGNAL to every worker with a metrics file (`flush_workers`) and waits
for the files to go before it stops MMS. The same flush is also registered for the worker's exit (atexit, and as a
multiprocessing finaliser: MMS workers are multiprocessing children that leave through os._exit, skipping atexit).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import util
from pathlib import Path

import psutil

from config.settings import Settings
from handler.files import write_atomically
from handler.telemetry.emf import emf_line
from handler.telemetry.metrics import Recorder, Snapshot, WorkerState
from handler.telemetry.prometheus import exposition

METRICS_DIR = "metrics"  # under CONTROL_DIR; plugins/metrics reads it
SUFFIX = ".prom"
FINAL_FLUSH_SIGNAL = signal.SIGUSR1
BACKEND_MARK = "model_service_worker.py"  # in the command line of every MMS worker (forked from the backend)

log = logging.getLogger(__name__)


class MetricsPublisher:
    def __init__(
        self,
        recorder: Recorder,
        state: Callable[[], WorkerState],
        settings: Settings,
        pid: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.recorder = recorder
        self.state = state
        self.settings = settings
        self.pid = os.getpid() if pid is None else pid
        self.path = settings.control_dir / METRICS_DIR / f"{self.pid}{SUFFIX}"
        self._clock = clock
        self._last_emf: Snapshot | None = None
        self._wake = threading.Event()  # set by close() or FINAL_FLUSH_SIGNAL: print the last interval and stop
        self._closed = threading.Lock()
        self._is_closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> MetricsPublisher:
        self._last_emf = self.snapshot()  # the first interval starts now, at zero
        if threading.current_thread() is threading.main_thread():  # before the file exists: flush_workers may signal
            signal.signal(FINAL_FLUSH_SIGNAL, lambda signum, frame: self._wake.set())
        self.publish_snapshot()
        self._thread = threading.Thread(target=self._run, name="metrics-publisher", daemon=True)
        self._thread.start()
        atexit.register(self.close)
        util.Finalize(None, self.close, exitpriority=100)
        return self

    def snapshot(self) -> Snapshot:
        return self.recorder.snapshot(self._clock(), self.state())

    def publish_snapshot(self) -> Path:
        write_atomically(self.path, exposition(self.snapshot(), self.pid).encode())
        return self.path

    def flush_emf(self) -> str | None:
        """Print the EMF line of the interval since the last one (None when EMF is off)."""
        if not self.settings.metrics_emf:
            return None
        current = self.snapshot()
        line = emf_line(current.since(self._last_emf), self.settings, self.pid)
        self._last_emf = current
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return line

    def close(self) -> None:
        with self._closed:
            if self._is_closed:
                return
            self._is_closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        with contextlib.suppress(Exception):  # the last gasp of a dying worker: nothing to raise into
            self.flush_emf()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _run(self) -> None:
        now = time.monotonic()
        next_snapshot = now + self.settings.metrics_snapshot_seconds
        next_emf = now + self.settings.metrics_interval_seconds
        while not self._wake.wait(max(0.0, min(next_snapshot, next_emf) - time.monotonic())):
            now = time.monotonic()
            try:
                if now >= next_snapshot:
                    next_snapshot = now + self.settings.metrics_snapshot_seconds
                    self.publish_snapshot()
                if now >= next_emf:
                    next_emf += self.settings.metrics_interval_seconds
                    self.flush_emf()
            except Exception:
                log.exception("publishing metrics failed; the thread carries on")
        self.close()


def flush_workers(control_dir: Path, timeout: float = 3.0) -> bool:
    """Ask every live worker to print its last EMF interval now; True once all have (their metrics files are gone).

    Only processes that are MMS workers are signalled: a stale file's pid may belong to another process by now.
    """
    directory = control_dir / METRICS_DIR
    pending = []
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            if BACKEND_MARK in " ".join(psutil.Process(int(path.stem)).cmdline()):
                os.kill(int(path.stem), FINAL_FLUSH_SIGNAL)
                pending.append(path)
        except (ValueError, psutil.Error, ProcessLookupError, PermissionError):
            continue
    deadline = time.monotonic() + timeout
    while any(path.exists() for path in pending):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
