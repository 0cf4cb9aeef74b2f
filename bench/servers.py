"""The two MMS set-ups the bench starts: ours (`entrypoint.py serve`, tests.support.server.Server as is) and the
framework ceiling (the same launcher with bench.null_handler)."""

from __future__ import annotations

import sys

from tests.support.server import Server


class CeilingServer(Server):
    """tests.support.server.Server (ports, directories, readiness, shutdown) launching bench.ceiling_server."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.ceiling_server"]
