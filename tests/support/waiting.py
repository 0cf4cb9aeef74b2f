"""Polling with a deadline, for tests that wait on another process.

A deadline here is a hang guard, never the thing tested: CI machines are shared, and a step that takes 2 s on a quiet
machine can take ten times that while another job keeps every core busy. HANG_GUARD_SECONDS is the bound for any
single wait on a server (a worker coming back, a busy flag appearing, a stop): long enough for a busy machine,
short enough that a hung test fails with a message well before pytest's own timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

HANG_GUARD_SECONDS = 120.0


def wait_for(
    condition: Callable[[], bool],
    timeout: float = HANG_GUARD_SECONDS,
    interval: float = 0.01,
    *,
    what: str = "condition",
) -> None:
    """Return as soon as `condition()` is true; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not met within {timeout:g} s (a hang guard, not a performance limit)")
