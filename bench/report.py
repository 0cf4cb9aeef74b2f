"""The bench's results: the measurements of one run, the ratios issue 7 asks for, one printed table and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.load import CellResult

OURS, REFERENCE, CEILING = "ours", "reference", "ceiling"
SERVERS = (OURS, REFERENCE, CEILING)
# Above this much CPU used by other processes during a cell, its figures are not comparable with the others.
NOISY_CORES = 0.1


@dataclass(frozen=True)
class Cell:
    """One (server, request type, concurrency) measurement, or why there is none."""

    server: str
    request: str
    concurrency: int
    result: CellResult | None = None
    error: str | None = None
    foreign_cores: float | None = None  # CPU other processes on the host used meanwhile (see bench/noise.py)

    @property
    def noisy(self) -> bool:
        return self.foreign_cores is not None and self.foreign_cores > NOISY_CORES


@dataclass(frozen=True)
class Batch:
    """Rows/s of one large CSV through the running server against the in-process floor on the same rows."""

    rows: int
    body_mb: float
    server_seconds: float | None  # best of the timed requests
    floor_seconds: float | None
    error: str | None = None

    @property
    def server_rows_per_s(self) -> float | None:
        return self.rows / self.server_seconds if self.server_seconds else None

    @property
    def floor_rows_per_s(self) -> float | None:
        return self.rows / self.floor_seconds if self.floor_seconds else None


@dataclass
class Report:
    request_names: list[str]
    descriptions: dict[str, str]
    concurrencies: list[int]
    cells: list[Cell] = field(default_factory=list)
    floors: dict[str, float] = field(default_factory=dict)  # request name -> best seconds in-process
    floor_error: str | None = None
    cold_starts: dict[str, float] = field(default_factory=dict)  # which server start -> seconds
    batch: Batch | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def cell(self, server: str, request: str, concurrency: int) -> Cell | None:
        for cell in self.cells:
            if (cell.server, cell.request, cell.concurrency) == (server, request, concurrency):
                return cell
        return None

    def result(self, server: str, request: str, concurrency: int) -> CellResult | None:
        cell = self.cell(server, request, concurrency)
        return cell.result if cell is not None else None

    def floor_req_per_s(self, request: str) -> float | None:
        seconds = self.floors.get(request)
        return 1.0 / seconds if seconds else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def req_per_s(result: CellResult | None) -> float | None:
    return result.req_per_s if result is not None else None


def ratios(report: Report, request: str, concurrency: int) -> dict[str, float | None]:
    """Throughput ratios of ours against the reference, the do-nothing handler and the in-process floor.

    The floor is one core's worth (1 / best in-process time); ours runs two workers, so ours/floor can pass 1.
    """
    ours = req_per_s(report.result(OURS, request, concurrency))
    return {
        "ours/reference": ratio(ours, req_per_s(report.result(REFERENCE, request, concurrency))),
        "ours/ceiling": ratio(ours, req_per_s(report.result(CEILING, request, concurrency))),
        "ours/floor": ratio(ours, report.floor_req_per_s(request)),
    }


def _number(value: float | None, digits: int = 2, width: int = 7) -> str:
    return f"{'-' if value is None else f'{value:,.{digits}f}':>{width}}"


def _cell_text(cell: Cell | None) -> str:
    if cell is None or cell.result is None:
        return f"{'n/a':>29}"
    result = cell.result
    errors = f"{result.errors}{'*' if cell.noisy else ''}"
    return f"{_number(result.p50_ms)} {_number(result.p99_ms)} {_number(result.req_per_s, 0, 7)} {errors:>5}"


def render(report: Report) -> str:
    """The one table of issue 7, then the floor, the batch ratio, cold start and any failure."""
    server_heads = " | ".join(f"{name:^29}" for name in SERVERS)
    sub_heads = " | ".join(f"{'p50 ms':>7} {'p99 ms':>7} {'req/s':>7} {'err':>5}" for _ in SERVERS)
    lines = [
        f"{'request':<10} {'conc':>4} | {server_heads} | {'ours/':>6} {'ours/':>6} {'ours/':>6}",
        f"{'':<10} {'':>4} | {sub_heads} | {'ref':>6} {'ceil':>6} {'floor':>6}",
    ]
    lines.append("-" * len(lines[0]))
    for request in report.request_names:
        for concurrency in report.concurrencies:
            results = " | ".join(_cell_text(report.cell(server, request, concurrency)) for server in SERVERS)
            shares = " ".join(_number(value, 2, 6) for value in ratios(report, request, concurrency).values())
            lines.append(f"{request:<10} {concurrency:>4} | {results} | {shares}")
    noisy = [cell for cell in report.cells if cell.noisy]
    if noisy:
        worst = max(cell.foreign_cores or 0.0 for cell in noisy)
        lines.append(f"* other processes used more than {NOISY_CORES} core during the cell (up to {worst:.2f})")
    lines.append("")
    lines.append("in-process floor (decode + predict + encode, best of N, one core):")
    for request in report.request_names:
        seconds = report.floors.get(request)
        figure = f"{seconds * 1e3:.3f} ms = {1 / seconds:,.0f} req/s" if seconds else f"n/a ({report.floor_error})"
        lines.append(f"  {request:<10} {report.descriptions[request]:<32} {figure}")
    lines.extend(_batch_lines(report.batch))
    for name, seconds in report.cold_starts.items():
        lines.append(f"cold start ({name}): {seconds:.2f} s from launch to the first successful invocation")
    return "\n".join(lines + failure_lines(report.cells))


def failure_lines(cells: list[Cell]) -> list[str]:
    """One line per server and distinct error, naming the cells it cost."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for cell in cells:
        if cell.error:
            grouped.setdefault((cell.server, cell.error), []).append(f"{cell.request}@{cell.concurrency}")
    return [f"FAILED {server} ({', '.join(where)}): {error}" for (server, error), where in grouped.items()]


def _batch_lines(batch: Batch | None) -> list[str]:
    if batch is None:
        return []
    head = f"batch: {batch.rows:,} applicants, {batch.body_mb:.1f} MB CSV in one request"
    if batch.error:
        return ["", f"{head}: FAILED {batch.error}"]
    server, floor = batch.server_rows_per_s, batch.floor_rows_per_s
    return [
        "",
        f"{head}: server {_number(server, 0, 0)} rows/s, in-process floor {_number(floor, 0, 0)} rows/s, "
        f"server/floor {_number(ratio(server, floor), 2, 0)}",
    ]


def as_json(report: Report) -> dict[str, Any]:
    cells = []
    for cell in report.cells:
        entry: dict[str, Any] = {"server": cell.server, "request": cell.request, "concurrency": cell.concurrency}
        if cell.result is not None:
            entry.update(asdict(cell.result), req_per_s=cell.result.req_per_s, errors=cell.result.errors)
        if cell.error:
            entry["error"] = cell.error
        entry["foreign_cores"] = cell.foreign_cores
        cells.append(entry)
    batch = None
    if report.batch is not None:
        batch = {
            **asdict(report.batch),
            "server_rows_per_s": report.batch.server_rows_per_s,
            "floor_rows_per_s": report.batch.floor_rows_per_s,
            "server/floor": ratio(report.batch.server_rows_per_s, report.batch.floor_rows_per_s),
        }
    return {
        "context": report.context,
        "requests": {name: report.descriptions[name] for name in report.request_names},
        "cells": cells,
        "floor_seconds": report.floors,
        "floor_error": report.floor_error,
        "ratios": [
            {"request": request, "concurrency": concurrency, **ratios(report, request, concurrency)}
            for request in report.request_names
            for concurrency in report.concurrencies
        ],
        "batch": batch,
        "cold_start_seconds": report.cold_starts,
    }
