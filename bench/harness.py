"""Run the real container entry point (`entrypoint.py serve`: MMS + Java + Python workers) on loopback: the harness
`make bench` and the test suite (tests/support/server.py) share.

Only one MMS can run per host (fixed pid file and socket in /tmp), so every server started here holds an
exclusive host-wide lock for its whole life; other test processes on the machine wait for it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import psutil
import requests

from config.settings import REPO_ROOT

LOCK_FILE = Path("/tmp/approval-odds-mms.lock")
PORT_RANGE = (20000, 32700)  # MMS refuses ports >= 32767; the OS hands out ephemeral ports above 32768
BACKEND_MARK = "model_service_worker.py"
PR_SET_PDEATHSIG = 1
# Hang guards, not performance limits: MMS starts in ~10 s on a quiet machine and several times that while another
# job keeps both cores busy; the launcher stops within its own bounds (drain <= 25 s, then Java's grace).
START_LIMIT_SECONDS = 300.0
STOP_LIMIT_SECONDS = 120.0
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it between fork and exec


def _terminate_with_parent() -> None:
    """In the server's process before exec: SIGTERM it when the test process dies, even by SIGKILL or a CI timeout,
    so no MMS outlives its test and blocks the host (MMS allows one per host)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def free_port() -> int:
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in range")


class HostLock:
    """Exclusive, blocking, host-wide: serialises MMS across test processes and engineers."""

    def __init__(self) -> None:
        self._handle: TextIO | None = None

    def acquire(self) -> None:
        if self._handle is None:
            self._handle = handle = open(LOCK_FILE, "a")  # noqa: SIM115 - held open for the lock's lifetime
            fcntl.flock(handle, fcntl.LOCK_EX)

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class Server:
    """One `python entrypoint.py serve` process with its own ports and working directories."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.management_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.env = {
            **os.environ,
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
            "MANAGEMENT_PORT": str(self.management_port),
            "BIND_HOST": "127.0.0.1",
            "PYTHONPATH": str(REPO_ROOT),
            "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
            "LOG_DIR": str(workdir / "logs"),
            "CONTROL_DIR": str(workdir / "control"),
            "CARD_VARIABLES_CACHE_DIR": str(workdir / "cache"),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, str(REPO_ROOT / "entrypoint.py"), "serve"]

    def start(self, timeout: float = START_LIMIT_SECONDS, wait: bool = True) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_terminate_with_parent,  # one prctl call, resolved before the fork
            )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = START_LIMIT_SECONDS) -> None:
        """Until /ping is healthy and every worker has loaded its model (MMS says READY before that)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_text()[-4000:]}")
            try:
                healthy = requests.get(self.url + "/ping", timeout=2).status_code == 200
            except requests.RequestException:
                healthy = False
            if healthy and self.loaded_workers() >= int(self.env["SAGEMAKER_MODEL_SERVER_WORKERS"]):
                return
            time.sleep(0.1)
        raise TimeoutError(f"server not ready in {timeout:g} s (a hang guard):\n{self.log_text()[-4000:]}")

    def loaded_workers(self) -> int:
        """Workers that finished loading the model since start (MMS's worker logs one line for each)."""
        return self.log_text().count("Model model loaded io_fd=")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tree(self) -> list[psutil.Process]:
        """Every live process of this server: launcher, Java, backend, workers."""
        if self.process is None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> set[int]:
        """The Python processes that score requests (forked by the backend server)."""
        pids = set()
        for process in self.tree():
            try:
                parent = process.parent()
                if parent is not None and BACKEND_MARK in " ".join(parent.cmdline()):
                    pids.add(process.pid)
            except psutil.Error:
                continue
        return pids

    def backend_pids(self) -> set[int]:
        """The backend-server processes MMS's Java frontend started (they fork the workers)."""
        pids = set()
        for process in self.tree():
            try:
                parent = process.parent()
                if BACKEND_MARK in " ".join(process.cmdline()) and BACKEND_MARK not in " ".join(parent.cmdline()):
                    pids.add(process.pid)
            except psutil.Error:
                continue
        return pids

    def terminate(self, timeout: float = STOP_LIMIT_SECONDS) -> int:
        """SIGTERM the launcher and wait for it; returns its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """Last resort for a broken test: SIGKILL this server's whole tree."""
        for process in reversed(self.tree()):
            with contextlib.suppress(psutil.Error):
                process.kill()
        if self.process is not None:
            self.process.wait(STOP_LIMIT_SECONDS)
