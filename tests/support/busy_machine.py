"""Run a command while CPU-bound processes load every core, as another job on a shared CI machine would.

    .venv/bin/python -m tests.support.busy_machine [--processes 2] -- .venv/bin/pytest -m "not container"

Each hog is a plain Python busy loop (what `stress-ng --cpu N` does, with nothing to install), at the same nice level
as the command. The hogs are started before the command and stopped by pid when it ends, however it ends; each one
also exits on its own after --max-minutes, so a runner killed with SIGKILL cannot leave a core spinning for long.
Prints the command's wall time; exits with the command's exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

# Spins until its deadline; checks the clock only every million iterations so the loop is pure CPU.
HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    for _ in range(10**6): pass"


@contextlib.contextmanager
def cpu_hogs(processes: int, max_seconds: float) -> Iterator[list[int]]:
    """`processes` busy loops for the duration of the block; yields their pids."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", HOG.format(seconds=max_seconds)], stdin=subprocess.DEVNULL)
        for _ in range(processes)
    ]
    try:
        yield [hog.pid for hog in hogs]
    finally:
        for hog in hogs:
            if hog.poll() is None:
                hog.kill()
        for hog in hogs:
            hog.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.busy_machine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="busy loops (default: one a core)")
    parser.add_argument("--max-minutes", type=float, default=90.0, help="each hog stops by itself after this long")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("no command given")
    # A SIGTERM to the runner (CI cancelling the job) stops the command and the hogs: the cleanup blocks run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with cpu_hogs(arguments.processes, arguments.max_minutes * 60) as pids:
        print(f"busy machine: {len(pids)} CPU-bound processes (pids {' '.join(map(str, pids))})", flush=True)
        started = time.monotonic()
        child = subprocess.Popen(command)
        try:
            code = child.wait()
        finally:
            if child.poll() is None:  # the runner was stopped: so is the command
                child.terminate()
                child.wait()
        elapsed = time.monotonic() - started
    print(f"busy machine: `{' '.join(command)}` exited {code} after {elapsed / 60:.1f} min ({elapsed:.0f} s)")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
