"""Engine rows of `make bench`: per model shape, the engine the server chooses against sklearn, in one process.

For the demo model (300 trees of depth 3) and two larger shapes the trainer allows, trained by the real trainer on
the demo data (200 trees of depth 6; 1,000 trees of depth 3): the load-time check (engine chosen, rows checked,
seconds), then scoring one applicant, 50 and 1,000 applicants x every active card with the chosen engine and with
sklearn predict_proba, best of N, and their ratio. The odds of both are compared bit for bit on the way.

Usage: .venv/bin/python -m bench.engines [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.workload import feature_columns
from config.settings import DEMO_MODEL_DIR, REPO_ROOT
from handler.model.artifact import load_artifact
from handler.model.predictor import choose_engine, describe

MODELS_DIR = REPO_ROOT / "build" / "bench-models"
# name -> hyperparameters replacing the demo model's (training/demo_model.py)
SHAPES: dict[str, dict[str, str]] = {
    "depth-6": {"n_estimators": "200", "max_depth": "6"},
    "1000-trees": {"n_estimators": "1000", "max_depth": "3"},
}
APPLICANTS = (1, 50, 1000)


@dataclass(frozen=True)
class EngineRow:
    model: str
    shape: str  # trees x depth
    engine: str  # as the server describes its choice
    check_seconds: float
    rows_checked: int
    # applicants -> best seconds per call
    chosen: dict[int, float]
    sklearn: dict[int, float]


def model_dirs() -> dict[str, Path]:
    """The demo model and the larger shapes, trained once and kept under build/bench-models."""
    from training.demo_model import build

    dirs = {"demo": DEMO_MODEL_DIR}
    for name, overrides in SHAPES.items():
        out = MODELS_DIR / name
        stamp = out / "bench-hyperparameters.json"
        wanted = json.dumps(overrides, sort_keys=True)
        if not (stamp.is_file() and stamp.read_text() == wanted and (out / "model.joblib").is_file()):
            if build(out, overrides=overrides) != 0:
                raise RuntimeError(f"training the {name} model failed")
            stamp.write_text(wanted)
        dirs[name] = out
    return dirs


def measure(name: str, model_dir: Path, budget_s: float) -> EngineRow:
    artifact = load_artifact(model_dir, "sklearn")  # the check is timed below, on its own
    estimator, metadata, catalog = artifact.estimator, artifact.metadata, artifact.bundled_catalog
    started = time.perf_counter()
    chosen, verdict = choose_engine(estimator, metadata, catalog.features)
    check_seconds = time.perf_counter() - started
    sklearn = choose_engine(estimator, metadata, catalog.features, engine="sklearn")[0]
    columns = feature_columns(metadata, max(APPLICANTS), seed=5)
    applicants = np.column_stack([columns[name] for name in metadata.applicant_feature_names]).astype(np.float64)
    rows = np.flatnonzero(catalog.active)
    timings: dict[str, dict[int, float]] = {"chosen": {}, "sklearn": {}}
    for n in APPLICANTS:
        calls = {
            label: functools.partial(predictor.grid_odds, applicants[:n], catalog.features, rows)
            for label, predictor in (("chosen", chosen), ("sklearn", sklearn))
        }
        if not np.array_equal(calls["chosen"](), calls["sklearn"]()):
            raise AssertionError(f"{name}: {verdict.engine} differs from sklearn for {n} applicants")
        for label, seconds in _interleaved(calls, repeats=max(3, 2000 // n), budget_s=budget_s).items():
            timings[label][n] = seconds
    first = estimator.estimators_[0][0]
    shape = f"{len(estimator.estimators_)} x depth {first.get_params()['max_depth']}"
    return EngineRow(name, shape, describe(chosen), check_seconds, verdict.rows_checked, **timings)


def _interleaved(calls: Mapping[str, Callable[[], object]], repeats: int, budget_s: float) -> dict[str, float]:
    """Best seconds of each call, timed in alternation so that other load on the host hits both alike."""
    best = dict.fromkeys(calls, float("inf"))
    until = time.perf_counter() + budget_s
    for _ in range(repeats):
        for label, call in calls.items():
            started = time.perf_counter()
            call()
            best[label] = min(best[label], time.perf_counter() - started)
        if time.perf_counter() > until:
            break
    return best


def render(rows: list[EngineRow]) -> str:
    heads = " ".join(f"{f'{n} appl.':>20}" for n in APPLICANTS)
    lines = [
        "engine per model shape (in-process, one core; ms per call: chosen engine / sklearn = ratio):",
        f"  {'model':<11} {'trees x depth':<15} {'check s':>7} {'rows':>6} {heads}  engine",
    ]
    for row in rows:
        cells = " ".join(
            f"{row.chosen[n] * 1e3:>7.3f}/{row.sklearn[n] * 1e3:>7.3f}={row.chosen[n] / row.sklearn[n]:>4.2f}"
            for n in APPLICANTS
        )
        lines.append(
            f"  {row.model:<11} {row.shape:<15} {row.check_seconds:>7.2f} {row.rows_checked:>6} {cells}  {row.engine}"
        )
    return "\n".join(lines)


def run(quick: bool = False) -> tuple[list[EngineRow], str]:
    rows = [measure(name, path, 0.5 if quick else 2.0) for name, path in model_dirs().items()]
    return rows, render(rows)


def as_json(rows: list[EngineRow]) -> list[dict[str, object]]:
    return [asdict(row) for row in rows]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    args = parser.parse_args(argv)
    _, table = run(args.quick)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
