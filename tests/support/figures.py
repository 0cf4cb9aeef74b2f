"""Figures a test measures but must not assert: how long a worker took to come back, a stop, a soak's memory.

CI machines are shared, so a time is no verdict: tests assert behaviour, record the figure here, and the run prints
every figure at the end and writes them to build/reports/test-figures.json (bench/ and the soak report hold the rest).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.server import REPO

REPORT = REPO / "build" / "reports" / "test-figures.json"
_FIGURES: list[dict[str, Any]] = []


def record(name: str, value: float, unit: str, **context: Any) -> None:
    """One measured figure, e.g. record("worker replacement", 2.1, "s", requests=4210)."""
    _FIGURES.append({"name": name, "value": round(value, 3), "unit": unit, **context})


def recorded() -> list[dict[str, Any]]:
    return list(_FIGURES)


def write_report(path: Path = REPORT) -> Path | None:
    """The figures of this run as JSON; nothing is written when no test recorded one."""
    if not _FIGURES:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_FIGURES, indent=2) + "\n")
    return path


def summary_lines() -> list[str]:
    lines = []
    for figure in _FIGURES:
        context = ", ".join(f"{key}={value}" for key, value in figure.items() if key not in ("name", "value", "unit"))
        lines.append(f"{figure['name']}: {figure['value']:g} {figure['unit']}" + (f" ({context})" if context else ""))
    return lines
