"""Run the reference stack (bench/reference/, NOT product code): nginx on a loopback port in front of gunicorn sync
workers on a unix socket, every file under one work directory."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from string import Template

import requests

from bench.harness import free_port
from config.settings import REPO_ROOT

TEMPLATE = Path(__file__).parent / "reference" / "nginx.conf.template"
APP = "bench.reference.wsgi:app"


def nginx_config(prefix: Path, port: int, socket_path: Path) -> str:
    user = pwd.getpwuid(os.getuid()).pw_name
    return Template(TEMPLATE.read_text()).substitute(prefix=prefix, port=port, socket=socket_path, user=user)


class ReferenceServer:
    def __init__(self, workdir: Path, model_dir: Path, workers: int = 2, env: Mapping[str, str] | None = None) -> None:
        self.workdir = workdir
        self.model_dir = model_dir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket_path = workdir / "gunicorn.sock"
        self.env = {**os.environ, "MODEL_DIR": str(model_dir), "PYTHONPATH": str(REPO_ROOT), **(env or {})}
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 60.0) -> ReferenceServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.workdir / temp).mkdir(exist_ok=True)
        config = self.workdir / "nginx.conf"
        config.write_text(nginx_config(self.workdir, self.port, self.socket_path))
        gunicorn = [
            sys.executable, "-m", "gunicorn", "--worker-class=sync", f"--workers={self.workers}",
            f"--bind=unix:{self.socket_path}", "--timeout=60", f"--chdir={REPO_ROOT}", APP,
        ]  # fmt: skip
        nginx = ["nginx", "-p", str(self.workdir), "-c", str(config), "-e", str(self.workdir / "error.log")]
        with open(self.workdir / "server.log", "ab") as log:
            for command in (gunicorn, nginx):
                self.processes.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        self._wait_for_ping(timeout)
        return self

    def alive(self) -> bool:
        return bool(self.processes) and all(process.poll() is None for process in self.processes)

    def _wait_for_ping(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"reference server exited:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/ping", timeout=5).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"reference server not ready in {timeout} s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        log = self.workdir / "server.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM nginx, then gunicorn (its arbiter stops its workers); SIGKILL what outlives the timeout."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes = []
