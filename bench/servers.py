"""The two MMS set-ups the bench starts: ours (`entrypoint.py serve`, bench.harness.Server as is) and the
framework ceiling (the same launcher with bench.null_handler)."""

from __future__ import annotations

import sys

from bench.harness import Server


class CeilingServer(Server):
    """bench.harness.Server (ports, directories, readiness, shutdown) launching bench.ceiling_server."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.ceiling_server"]
