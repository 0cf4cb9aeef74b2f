"""Own the MMS process tree: adopt it, drain it on SIGTERM, watch the Python backend, leave nothing behind.

The toolkit alone forwards SIGTERM to Java only (in-flight requests are cut, the Python backend is
orphaned) and never notices a dead backend (requests then hang forever). The launcher becomes a child
subreaper so Java and the backend are re-parented to it whatever happens, and can always be found.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil

from handler.worker.busy import busy_pids

PR_SET_CHILD_SUBREAPER = 36
BACKEND_MARK = "model_service_worker.py"
MMS_MAIN_CLASS = "com.amazonaws.ml.mms.ModelServer"
MMS_PID_FILE = Path(tempfile.gettempdir()) / ".model_server.pid"
MMS_SOCKET_GLOB = ".mms.sock.*"
TCP_ESTABLISHED = "01"
QUIET_CHECKS = 10  # idle for 0.5 s: covers Java assembling a large response after the worker sent it
POLL_SECONDS = 0.05

log = logging.getLogger("serving.supervisor")


def become_subreaper() -> None:
    """Orphaned descendants (Java, the Python backend) are re-parented to this process instead of init."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log.warning("could not become a child subreaper; stray MMS processes are cleaned up by pid scan only")


def descendants() -> list[psutil.Process]:
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def unsent_bytes(port: int) -> int:
    """Bytes of responses on `port` still queued in the kernel, not yet acknowledged by the clients."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == TCP_ESTABLISHED:
                total += int(fields[4].split(":")[0], 16)
    return total


def wait_until_idle(control_dir: Path, port: int, limit_seconds: float) -> bool:
    """Wait until no worker is scoring and no response is still being sent, for a few samples in a row.

    A worker going idle is not enough: Java may still be writing a large response to the client.
    Returns False if the limit ran out first.
    """
    deadline = time.monotonic() + limit_seconds
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if not busy_pids(control_dir) and not unsent_bytes(port) else 0
        if quiet >= QUIET_CHECKS:
            return True
        time.sleep(POLL_SECONDS)
    return False


def stop_tree(java: psutil.Process | None, grace_seconds: float = 10.0) -> None:
    """Stop Java, then every remaining descendant; SIGKILL whatever outlives its grace period."""
    if java is not None and java.is_running():
        _terminate([java], grace_seconds)
    _terminate(descendants(), 3.0)
    clean_stale_files()


def _terminate(processes: list[psutil.Process], grace_seconds: float) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=grace_seconds)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=2.0)


def running_mms_pid() -> int | None:
    """The pid in MMS's fixed pid file, if that process is alive (MMS refuses to start a second one)."""
    try:
        pid = int(MMS_PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        is_mms = MMS_MAIN_CLASS in psutil.Process(pid).cmdline()  # not a recycled pid
    except psutil.Error:
        return None
    return pid if is_mms else None


def clean_stale_files() -> None:
    """MMS's fixed pid file and worker sockets, left behind when its processes are killed."""
    if running_mms_pid() is None:
        MMS_PID_FILE.unlink(missing_ok=True)
    if not any(BACKEND_MARK in " ".join(_cmdline(p)) for p in descendants()):
        for socket_file in Path(tempfile.gettempdir()).glob(MMS_SOCKET_GLOB):
            socket_file.unlink(missing_ok=True)


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def backend_processes(java: psutil.Process) -> list[psutil.Process]:
    """The Python backend-server processes MMS started (the parents that fork the workers)."""
    try:
        children = java.children()
    except psutil.Error:
        return []
    return [child for child in children if BACKEND_MARK in " ".join(_cmdline(child))]


class BackendWatchdog(threading.Thread):
    """Exit the container when a Python backend-server dies: MMS never restarts it and requests would hang."""

    def __init__(self, java: psutil.Process, on_death: Callable[[str], None], interval: float = 0.5) -> None:
        super().__init__(name="backend-watchdog", daemon=True)
        self.java, self.on_death, self.interval = java, on_death, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        seen: dict[int, psutil.Process] = {}
        while not self.stopped.wait(self.interval):
            for process in backend_processes(self.java):
                seen.setdefault(process.pid, process)
            for pid, process in list(seen.items()):
                if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
                    if self.stopped.is_set():
                        return
                    self.on_death(f"the MMS Python backend (pid {pid}) died; MMS cannot recover from that")
                    return


def confirm_model_registered(
    management_url: str, on_failure: Callable[[str], None], timeout: float = 120.0, model: str = "model"
) -> bool:
    """Fail the container if MMS came up without the model.

    MMS logs a model it cannot load and serves on without it: /ping stays healthy while every invocation
    fails. It registers models before it opens the management port, so the first answer there is final.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{management_url}/models", timeout=2) as answer:
                listed = [entry.get("modelName") for entry in json.load(answer).get("models", [])]
        except (OSError, ValueError):
            time.sleep(0.2)
            continue
        if model in listed:
            return True
        on_failure(f"MMS started without the model '{model}' (it lists {listed}); see its log above")
        return False
    on_failure(f"MMS's management API did not answer within {timeout:.0f} s")
    return False


def install_reaper() -> None:
    """Reap adopted children as they exit (the toolkit's reaper logs an error whenever there is none)."""

    def reap(signum: int, frame: object) -> None:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass

    signal.signal(signal.SIGCHLD, reap)


def install_sigterm(handler: Callable[[], None]) -> None:
    signal.signal(signal.SIGTERM, lambda signum, frame: handler())
    signal.signal(signal.SIGINT, lambda signum, frame: handler())
