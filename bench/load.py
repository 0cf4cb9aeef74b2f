"""Drive one server with wrk (Debian's, on loopback) for a bounded time and read back what it measured."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("post.lua")
MARK = "BENCH-JSON "
# A 1,000-line request at concurrency 16 on the slow stack can take seconds; wrk's 2 s default would count it as
# an error instead of a (bad) latency.
SOCKET_TIMEOUT_S = 30


@dataclass(frozen=True)
class CellResult:
    """What wrk measured for one (server, request type, concurrency) cell."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # wrk counts statuses >= 400
    socket_errors: int  # connect + read + write + timeout

    @property
    def req_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def wrk_command(url: str, body_file: Path, content_type: str, accept: str, connections: int, seconds: int) -> list[str]:
    # One wrk thread: on a 2-core host every cycle the load tool burns is taken from the server under test.
    return [
        "wrk",
        "--threads=1",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--timeout={SOCKET_TIMEOUT_S}s",
        f"--script={LUA_SCRIPT}",
        url + "/invocations",
        "--",
        str(body_file),
        content_type,
        accept,
    ]


def parse_wrk(stdout: str) -> CellResult:
    """The summary line post.lua's done() prints."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            raw = json.loads(line[len(MARK) :])
            return CellResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1e3,
                p99_ms=raw["p99_us"] / 1e3,
                non_2xx=raw["status"],
                socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
            )
    raise ValueError(f"wrk printed no {MARK.strip()} line:\n{stdout[-2000:]}")


def run_wrk(url: str, body_file: Path, content_type: str, accept: str, connections: int, seconds: int) -> CellResult:
    if shutil.which("wrk") is None:
        raise FileNotFoundError("wrk is not installed: run bench/install_tools.sh")
    command = wrk_command(url, body_file, content_type, accept, connections, seconds)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + SOCKET_TIMEOUT_S + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    return parse_wrk(done.stdout)
