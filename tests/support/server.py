"""The real-server harness for tests: bench/harness.py (the bench starts the same servers; a tool must not import the
test suite, so the harness lives there and the tests import it)."""

from bench.harness import BACKEND_MARK, HostLock, Server, free_port
from config.settings import REPO_ROOT as REPO

__all__ = ["BACKEND_MARK", "REPO", "HostLock", "Server", "free_port"]
