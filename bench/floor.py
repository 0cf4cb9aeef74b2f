"""The in-process floor: decode + predict + encode of the same body through the product's own inference functions,
with no server in between (best of N, bounded in time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.workload import RequestType


def best_of(work: Callable[[], object], repeats: int, budget_s: float) -> float:
    """The fastest of up to `repeats` timed calls (at least one), stopping early once `budget_s` is spent."""
    best = float("inf")
    spent_until = time.perf_counter() + budget_s
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
        if time.perf_counter() > spent_until:
            break
    return best


class Floor:
    """The product's model loaded in this process (model_fn), scoring bench bodies as a worker would."""

    def __init__(self, model_dir: Path) -> None:
        from handler.worker.inference import model_fn

        self.model = model_fn(str(model_dir))

    def score(self, request: RequestType) -> bytes:
        from handler.worker.inference import input_fn, output_fn, predict_fn

        decoded = input_fn(request.body, request.content_type, None, self.model)
        body, _ = output_fn(predict_fn(decoded, self.model), request.accept)
        return body

    def seconds(self, request: RequestType, repeats: int = 200, budget_s: float = 3.0) -> float:
        self.score(request)  # first call pays one-off costs (imports, caches)
        return best_of(lambda: self.score(request), repeats, budget_s)
