"""The real server for tests: the harness in bench/harness.py (the bench starts the same servers; a tool must not
import the test suite, so the harness lives there), and Servers, the suite's one MMS at a time under the host lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from bench.harness import BACKEND_MARK, START_LIMIT_SECONDS, HostLock, Server, free_port
from config.settings import REPO_ROOT as REPO

__all__ = ["BACKEND_MARK", "REPO", "HostLock", "Server", "Servers", "free_port"]


class Servers:
    """At most one running server at a time; a test asking for another configuration gets a restart."""

    def __init__(self, root: Path, start_timeout: float = START_LIMIT_SECONDS) -> None:
        self.root = root
        self.start_timeout = start_timeout
        self.lock = HostLock()
        self.current: Server | None = None
        self.current_env: dict[str, str] | None = None
        self.started = 0

    def get(self, env: Mapping[str, str]) -> Server:
        wanted = dict(env)
        process = self.current.process if self.current else None
        if self.current_env == wanted and process is not None and process.poll() is None:
            return self.current
        self.stop()
        self.current = self._start(wanted)
        self.current_env = wanted
        return self.current

    @contextlib.contextmanager
    def dedicated(self, env: Mapping[str, str]) -> Iterator[Server]:
        """A server the test may kill, signal or break; the shared one is stopped first."""
        self.stop()
        server = self._start(env)
        try:
            yield server
        finally:
            server.kill()
            self.lock.release()

    def stop(self) -> None:
        if self.current is not None:
            try:
                self.current.terminate()
            finally:
                self.current, self.current_env = None, None
        self.lock.release()

    def _start(self, env: Mapping[str, str]) -> Server:
        """Take the host lock and start a server. A start that fails (the server exits, the hang guard fires, Ctrl-C)
        kills what it started and frees the lock before the error goes on: no half-started MMS holds the host."""
        self.lock.acquire()
        self.started += 1
        server = Server(self.root / f"server-{self.started}", dict(env))
        try:
            return server.start(self.start_timeout)
        except BaseException:
            try:
                server.kill()
            finally:
                self.lock.release()
            raise
