"""Bench only: `entrypoint.py serve` exactly as shipped (validation, MMS settings, process handling) with the
handler service swapped for bench.null_handler — the framework ceiling of issue 7.

Run as `python -m bench.ceiling_server` with the same environment as the product server.
"""

from __future__ import annotations

import sys

NULL_HANDLER = "bench.null_handler"


def main() -> int:
    from entrypoint import main as entrypoint_main
    from serving import launcher

    launcher.HANDLER_SERVICE = NULL_HANDLER  # Server.run reads the module global at call time
    return entrypoint_main(["serve"])


if __name__ == "__main__":
    sys.exit(main())
