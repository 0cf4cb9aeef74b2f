"""How much CPU the rest of the host used while a cell ran: on a shared 2-core machine another job's tests steal
the cores the servers need, so every cell records it and noisy cells are measured again."""

from __future__ import annotations

import resource
import time

import psutil


def host_busy_seconds() -> float:
    """CPU seconds the whole host spent not idle (steal included: a neighbour's time is noise too)."""
    times = psutil.cpu_times()
    return sum(getattr(times, field) for field in ("user", "nice", "system", "irq", "softirq", "steal"))


def own_seconds() -> dict[int, float]:
    """CPU seconds of this process and every live descendant (servers, MMS, workers, wrk), by pid."""
    me = psutil.Process()
    seconds = {}
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
        except psutil.Error:
            continue
    return seconds


def reaped_children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Noise:
    """Cores' worth of CPU used by processes outside this bench between start() and cores()."""

    def start(self) -> Noise:
        self._wall = time.monotonic()
        self._host = host_busy_seconds()
        self._own = own_seconds()
        self._reaped = reaped_children_seconds()
        return self

    def cores(self) -> float:
        wall = time.monotonic() - self._wall
        host = host_busy_seconds() - self._host
        now = own_seconds()
        # A pid seen at both ends contributes its delta, one born during the window all of its time; wrk has
        # exited (and been reaped) by now, so its time is in the children's usage.
        own = sum(seconds - self._own.get(pid, 0.0) for pid, seconds in now.items())
        own += reaped_children_seconds() - self._reaped
        return max(0.0, host - own) / wall if wall > 0 else 0.0
