"""The table's arithmetic: ratios against the reference, the ceiling and the floor, and what a failure looks like."""

from __future__ import annotations

import json

import pytest

from bench.load import CellResult
from bench.report import CEILING, OURS, REFERENCE, Batch, Cell, Report, as_json, ratio, ratios, render


def result(requests: int, seconds: float = 2.0, p50: float = 1.0, p99: float = 3.0, status: int = 0) -> CellResult:
    return CellResult(requests=requests, seconds=seconds, p50_ms=p50, p99_ms=p99, non_2xx=status, socket_errors=1)


def report() -> Report:
    measured = Report(["json-1"], {"json-1": "1 applicant"}, [1, 4])
    measured.cells = [
        Cell(OURS, "json-1", 1, result(2000)),  # 1,000 req/s
        Cell(REFERENCE, "json-1", 1, result(500)),  # 250 req/s
        Cell(CEILING, "json-1", 1, result(4000)),  # 2,000 req/s
        Cell(OURS, "json-1", 4, result(3000)),
        Cell(REFERENCE, "json-1", 4, error="HTTP 500: boom"),
        Cell(CEILING, "json-1", 4, error="HTTP 500: boom"),
    ]
    measured.floors = {"json-1": 0.0005}  # 2,000 req/s on one core
    return measured


def test_cell_rates_and_errors_add_non_2xx_and_socket_errors():
    cell = result(1500, seconds=3.0, status=4)
    assert cell.req_per_s == 500
    assert cell.errors == 5


def test_ratios_of_ours_against_reference_ceiling_and_floor():
    assert ratios(report(), "json-1", 1) == {"ours/reference": 4.0, "ours/ceiling": 0.5, "ours/floor": 0.5}


def test_a_missing_measurement_gives_no_ratio_rather_than_a_wrong_one():
    assert ratios(report(), "json-1", 4) == {"ours/reference": None, "ours/ceiling": None, "ours/floor": 0.75}
    assert ratio(None, 3.0) is None
    assert ratio(3.0, 0.0) is None


def test_render_prints_one_row_per_request_and_concurrency_with_the_ratios():
    table = render(report())
    rows = [line for line in table.splitlines() if line.startswith("json-1")]
    assert len(rows) == 2
    assert rows[0].split("|")[-1].split() == ["4.00", "0.50", "0.50"]
    assert "1,000" in rows[0] and "250" in rows[0] and "2,000" in rows[0]
    assert "0.500 ms = 2,000 req/s" in table


def test_render_names_each_failure_once_with_the_cells_it_cost():
    failures = [line for line in render(report()).splitlines() if line.startswith("FAILED")]
    assert failures == ["FAILED reference (json-1@4): HTTP 500: boom", "FAILED ceiling (json-1@4): HTTP 500: boom"]


def test_batch_rows_per_second_against_the_floor():
    batch = Batch(rows=100_000, body_mb=3.0, server_seconds=4.0, floor_seconds=2.0)
    assert (batch.server_rows_per_s, batch.floor_rows_per_s) == (25_000, 50_000)
    measured = report()
    measured.batch = batch
    assert "server 25,000 rows/s, in-process floor 50,000 rows/s, server/floor 0.50" in render(measured)
    assert as_json(measured)["batch"]["server/floor"] == pytest.approx(0.5)


def test_json_results_carry_cells_ratios_and_cold_start():
    measured = report()
    measured.cold_starts = {OURS: 3.5}
    data = json.loads(json.dumps(as_json(measured)))
    first = data["cells"][0]
    assert (first["server"], first["concurrency"], first["req_per_s"], first["errors"]) == (OURS, 1, 1000, 1)
    assert data["cells"][4]["error"] == "HTTP 500: boom"
    assert data["ratios"][0] == {
        "request": "json-1",
        "concurrency": 1,
        "ours/reference": 4.0,
        "ours/ceiling": 0.5,
        "ours/floor": 0.5,
    }
    assert data["cold_start_seconds"] == {OURS: 3.5}


def test_cells_disturbed_by_other_processes_are_starred_and_explained():
    measured = report()
    measured.cells[0] = Cell(OURS, "json-1", 1, result(2000), foreign_cores=0.4)
    measured.cells[1] = Cell(REFERENCE, "json-1", 1, result(500), foreign_cores=0.05)
    table = render(measured)
    row = next(line for line in table.splitlines() if line.startswith("json-1") and line.split()[1] == "1")
    ours, reference = row.split("|")[1:3]
    assert ours.split()[-1] == "1*" and reference.split()[-1] == "1"
    assert "* other processes used more than 0.1 core during the cell (up to 0.40)" in table
    assert as_json(measured)["cells"][0]["foreign_cores"] == 0.4
