"""One worker's figures: request counters and stage latency histograms (cumulative since the worker started), plus
the state the worker serves (engine, versions, catalogue age, refresh counters) read when a snapshot is taken.

`Recorder.record` is the only call on the request path: a lock and a few additions, no allocation and no I/O.
Snapshots are taken by the publisher thread (telemetry/publisher.py); EMF lines report the difference between two
snapshots (telemetry/emf.py), the Prometheus exposition the cumulative figures (telemetry/prometheus.py).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, field, replace

STAGES = ("decode", "score", "encode")  # input_fn (with Accept negotiation), predict_fn, output_fn
STATUS_CLASSES = ("2xx", "4xx", "5xx")
# Upper bounds of the latency buckets in milliseconds (a value v falls in the first bucket with v <= bound); one
# more bucket holds everything above the last. 20 buckets: well under EMF's 100 values per metric.
LATENCY_BOUNDS_MS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000)


@dataclass(frozen=True)
class Histogram:
    """Counts and sums (ms) per bucket of LATENCY_BOUNDS_MS, the last bucket being the overflow."""

    counts: tuple[int, ...]
    sums: tuple[float, ...]

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def total(self) -> float:
        return sum(self.sums)

    def minus(self, earlier: Histogram) -> Histogram:
        return Histogram(
            tuple(a - b for a, b in zip(self.counts, earlier.counts, strict=True)),
            tuple(a - b for a, b in zip(self.sums, earlier.sums, strict=True)),
        )


@dataclass(frozen=True)
class WorkerState:
    """What the worker serves when the snapshot is taken (gauges and the refresher's own counters)."""

    engine: str
    model_version: str
    catalog_version: str
    catalog_age_seconds: float  # since the served catalogue was fetched or loaded
    seconds_since_refresh_success: float | None  # None: no S3 source configured
    refresh_successes: int
    refresh_failures: int
    refresh_rejections: int


@dataclass(frozen=True)
class Snapshot:
    taken_at: float  # epoch seconds
    invocations: dict[str, int]  # by status class
    latency: dict[str, Histogram]  # by stage
    applicants: int
    pairs: int
    state: WorkerState

    def since(self, earlier: Snapshot | None) -> Snapshot:
        """The counters of the interval after `earlier` (all of them if None); the state as of this snapshot."""
        if earlier is None:
            return self
        state = self.state
        return Snapshot(
            taken_at=self.taken_at,
            invocations={key: value - earlier.invocations[key] for key, value in self.invocations.items()},
            latency={stage: self.latency[stage].minus(earlier.latency[stage]) for stage in STAGES},
            applicants=self.applicants - earlier.applicants,
            pairs=self.pairs - earlier.pairs,
            state=replace(
                state,
                refresh_successes=state.refresh_successes - earlier.state.refresh_successes,
                refresh_failures=state.refresh_failures - earlier.state.refresh_failures,
                refresh_rejections=state.refresh_rejections - earlier.state.refresh_rejections,
            ),
        )


@dataclass
class Recorder:
    """Cumulative counters of one worker; `record` is called once per request by the handler service."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _invocations: list[int] = field(default_factory=lambda: [0] * len(STATUS_CLASSES))
    _counts: list[list[int]] = field(default_factory=lambda: [[0] * (len(LATENCY_BOUNDS_MS) + 1) for _ in STAGES])
    _sums: list[list[float]] = field(default_factory=lambda: [[0.0] * (len(LATENCY_BOUNDS_MS) + 1) for _ in STAGES])
    _applicants: int = 0
    _pairs: int = 0

    def record(self, status: int, stage_ms: tuple[float | None, ...], applicants: int, pairs: int) -> None:
        """One request: its HTTP status, the milliseconds of each stage it reached (None for one it did not),
        and the applicants and applicant x card pairs it scored."""
        status_class = 0 if status < 400 else 1 if status < 500 else 2
        with self._lock:
            self._invocations[status_class] += 1
            for stage, ms in enumerate(stage_ms):
                if ms is not None:
                    bucket = bisect_left(LATENCY_BOUNDS_MS, ms)
                    self._counts[stage][bucket] += 1
                    self._sums[stage][bucket] += ms
            self._applicants += applicants
            self._pairs += pairs

    def snapshot(self, taken_at: float, state: WorkerState) -> Snapshot:
        with self._lock:
            invocations = dict(zip(STATUS_CLASSES, self._invocations, strict=True))
            latency = {stage: Histogram(tuple(self._counts[i]), tuple(self._sums[i])) for i, stage in enumerate(STAGES)}
            applicants, pairs = self._applicants, self._pairs
        return Snapshot(taken_at, invocations, latency, applicants, pairs, state)
