"""Memory of a running server, for the soak: RSS of every process sampled over the run, and the JVM's live heap.

A leak grows without bound; settling grows and stops. What each process may grow by is relative to its own baseline
measured in the same run after the warm-up, so a busy or a quiet machine, a bigger or smaller model, all judge alike.

- Python processes (launcher, backend, workers): RSS. Baseline and end are medians of SETTLED_SAMPLES samples (one
  large request or one arena is not a trend). Allowance max(25 % of baseline, 64 MB): on a quiet machine a worker
  grows ~2 MB in a one-minute soak of 30,000 requests, while a leak of 1 KB per request (~150 MB per worker in a
  ten-minute soak) goes well past it.
- Java: its RSS follows G1 growing the heap toward its maximum (a quarter of the host's RAM: MMS sets no -Xmx), faster
  when GC runs late on a busy machine: 144 -> 365 MB in a quiet one-minute soak, with no leak. RSS is reported, not
  judged. What is judged is the heap still in use right after a full GC (jcmd GC.run; GC.heap_info): the live set,
  allowed max(25 % of baseline, 64 MB) of growth.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from typing import Any

import numpy as np
import psutil

from tests.support.server import BACKEND_MARK, Server
from tests.support.waiting import HANG_GUARD_SECONDS

SAMPLE_SECONDS = 1.0
SETTLED_SAMPLES = 5
SERIES_EVERY = 5  # the report keeps every 5th sample of each process
GROWTH_FRACTION, GROWTH_FLOOR_MB = 0.25, 64.0
HEAP_USED = re.compile(r"total \d+K, used (\d+)K")

Sample = tuple[float, dict[int, tuple[str, float]]]  # (seconds since the first sample, pid -> (role, RSS MB))


def allowance_mb(baseline_mb: float) -> float:
    return max(GROWTH_FRACTION * baseline_mb, GROWTH_FLOOR_MB)


def memory(server: Server) -> dict[int, tuple[str, float]]:
    """pid → (role, RSS in MB) for every process of the server."""
    found = {}
    for process in server.tree():
        try:
            command = " ".join(process.cmdline())
            parent = " ".join(process.parent().cmdline()) if process.parent() else ""
            rss = process.memory_info().rss / 2**20
        except psutil.Error:
            continue
        if server.process is not None and process.pid == server.process.pid:
            role = "launcher"
        elif "java" in process.name():
            role = "java"
        elif BACKEND_MARK in parent:
            role = "worker"
        elif BACKEND_MARK in command:
            role = "backend"
        else:
            continue  # MMS's short-lived metric collector and the like
        found[process.pid] = (role, round(rss, 1))
    return found


def java_pid(server: Server) -> int | None:
    return next((pid for pid, (role, _) in memory(server).items() if role == "java"), None)


def live_heap_mb(pid: int) -> float | None:
    """The JVM's heap in use right after a full GC; None if jcmd is missing or cannot attach."""
    jcmd = shutil.which("jcmd")
    if jcmd is None:
        return None
    try:
        subprocess.run([jcmd, str(pid), "GC.run"], capture_output=True, timeout=HANG_GUARD_SECONDS, check=True)
        info = subprocess.run(
            [jcmd, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=True
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    used = HEAP_USED.search(info)
    return round(int(used.group(1)) / 1024, 1) if used else None


class Sampler(threading.Thread):
    """RSS of every server process every SAMPLE_SECONDS from start() until `stop` is set."""

    def __init__(self, server: Server) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.server = server
        self.samples: list[Sample] = []
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - started, memory(self.server)))
            if self.stop.wait(SAMPLE_SECONDS):
                self.samples.append((time.monotonic() - started, memory(self.server)))
                return


def rss_report(samples: list[Sample]) -> list[dict[str, Any]]:
    """Per process present at the first sample: baseline, end, peak, growth, allowance, the trend in MB a minute
    (least squares over every sample) and the series; only Python processes are judged (see the module's note)."""
    rows = []
    for pid, (role, _) in sorted(samples[0][1].items(), key=lambda item: item[1][0]):
        series = [(moment, found[pid][1]) for moment, found in samples if pid in found]
        moments, values = [moment for moment, _ in series], [rss for _, rss in series]
        baseline = float(np.median(values[:SETTLED_SAMPLES]))
        end = float(np.median(values[-SETTLED_SAMPLES:])) if pid in samples[-1][1] else None
        trend = float(np.polyfit(moments, values, 1)[0]) * 60 if len(series) > 2 and np.ptp(moments) > 0 else 0.0
        rows.append(
            {
                "pid": pid,
                "role": role,
                "judged": role != "java",
                "baseline_mb": round(baseline, 1),
                "end_mb": None if end is None else round(end, 1),
                "peak_mb": round(max(values), 1),
                "growth_mb": None if end is None else round(end - baseline, 1),
                "allowance_mb": round(allowance_mb(baseline), 1),
                "trend_mb_per_minute": round(trend, 2),
                "series_mb": values[::SERIES_EVERY],
            }
        )
    return rows


def heap_report(baseline_mb: float | None, end_mb: float | None) -> dict[str, Any]:
    """The JVM's live heap at the start and end of the measured run, with its allowance."""
    measured = baseline_mb is not None and end_mb is not None
    return {
        "baseline_mb": baseline_mb,
        "end_mb": end_mb,
        "growth_mb": round(end_mb - baseline_mb, 1) if measured else None,
        "allowance_mb": round(allowance_mb(baseline_mb), 1) if baseline_mb is not None else None,
    }


def grown(rss: list[dict[str, Any]], heap: dict[str, Any]) -> list[str]:
    """What grew past its allowance (or vanished): empty when memory held."""
    found = [
        f"{row['role']} {row['pid']} RSS {row['baseline_mb']} -> {row['end_mb']} MB (allowed +{row['allowance_mb']})"
        for row in rss
        if row["judged"] and (row["end_mb"] is None or row["growth_mb"] > row["allowance_mb"])
    ]
    if heap["growth_mb"] is not None and heap["growth_mb"] > heap["allowance_mb"]:
        found.append(f"java live heap {heap['baseline_mb']} -> {heap['end_mb']} MB (allowed +{heap['allowance_mb']})")
    return found
