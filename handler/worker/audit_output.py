"""Where a worker's audit lines go: with one write() into the launcher's output pipe, past MMS's Java stdout relay.

A worker's stdout is a pipe MMS's Java frontend reads line by line and re-logs through log4j: for the one line per
request, that relay cost more server CPU than the line itself (docs/performance.md, "Audit line and metrics"). The
launcher's own stdout is the pipe its JSON pump reads (serving/json_output.py), which is where Java's output ends up
too. The launcher names it in AUDIT_LOG_PIPE (/proc/<launcher pid>/fd/1; MMS passes its environment on to the Python
backend, which forks the workers) and each worker opens it once. A line of at most PIPE_BUF bytes written with one
write() is atomic on a pipe, so lines of several workers never interleave; a longer line, or one the pipe refuses,
goes through the relay instead: slower, never lost. A worker that cannot open the pipe uses the relay and says so
once, at start.

The line is in the pipe before the response is handed back to MMS: a worker killed after answering loses nothing,
and Java (its death, its buffers) is no longer in the line's way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select

from config import Settings
from handler.worker.logs import JsonFormatter

PIPE_ENV = "AUDIT_LOG_PIPE"
DIRECT, RELAY, OFF = "direct", "relay", "off"

log = logging.getLogger("handler")


def launcher_environment(settings: Settings) -> dict[str, str]:
    """What the launcher adds to MMS's environment: its stdout, once the JSON pump reads it, for the workers."""
    direct = settings.audit_log and settings.audit_log_direct
    return {PIPE_ENV: f"/proc/{os.getpid()}/fd/1" if direct else ""}


class PipeHandler(logging.Handler):
    """One JSON line per record, written with a single write() to `fd`; a record it cannot write that way is handed
    to the root logger's handlers (stdout: MMS's relay)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.failed = False
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        line = (self.format(record) + "\n").encode()
        if len(line) <= select.PIPE_BUF and not self.failed:
            try:
                os.write(self.fd, line)  # all or nothing on a pipe for len <= PIPE_BUF
                return
            except OSError as error:  # the launcher's pump is gone: the container is stopping
                self.failed = True
                log.warning("audit lines now go through MMS's stdout relay", extra={"reason": error.strerror})
        logging.getLogger().handle(record)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        super().close()


def configure(settings: Settings, logger: logging.Logger) -> str:
    """Route `logger`'s records (the audit line): DIRECT into the launcher's pipe, RELAY through this worker's
    stdout, or OFF. Returns the route taken."""
    for previous in logger.handlers:
        previous.close()
    logger.handlers.clear()
    logger.propagate = True
    logger.disabled = not settings.audit_log
    if not settings.audit_log:
        return OFF
    if not settings.audit_log_pipe:
        return RELAY
    try:
        # O_NONBLOCK: opening a pipe nobody reads fails (ENXIO) instead of waiting forever; writes then block again.
        fd = os.open(settings.audit_log_pipe, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NONBLOCK)
        os.set_blocking(fd, True)
    except OSError as error:
        log.warning(
            "audit lines go through MMS's stdout relay: the launcher's output cannot be opened",
            extra={"path": settings.audit_log_pipe, "reason": error.strerror},
        )
        return RELAY
    logger.addHandler(PipeHandler(fd))
    logger.propagate = False
    return DIRECT
