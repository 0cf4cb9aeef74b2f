"""Versions of card_variables.csv as a business might upload them: valid edits, and corrupt files the service must
refuse (keeping the catalogue it has). Built from the demo catalogue; `classify` proves each one is what it claims.
"""

from __future__ import annotations

import csv
import io
import pickle
from collections.abc import Callable
from pathlib import Path

from handler.model.catalog import Catalog, content_version, parse_catalog
from handler.model.errors import CatalogError
from handler.model.metadata import ModelMetadata
from handler.refresh.catalog_store import check_shrink

MIN_KEEP_FRACTION = 0.5  # the service's default shrink guard


class Unpicklable:
    """Unpickling this object creates `marker`: proof that something unpickled a catalogue."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return open, (str(self.marker), "w")


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_of(rows: list[list[str]], line_end: str = "\n") -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator=line_end).writerows(rows)
    return text.getvalue().encode()


def with_cell(rows: list[list[str]], line: int, column: str, value: str) -> list[list[str]]:
    """A copy of `rows` with one cell changed (line 1 is the first card)."""
    changed = [list(row) for row in rows]
    changed[line][changed[0].index(column)] = value
    return changed


def valid_edit(base: bytes, serial: int) -> bytes:
    """A valid new version: same cards, one card renamed (names are data, so formula-like ones are fine too)."""
    rows = rows_of(base)
    names = [
        f"Card edit {serial}",
        f'=HYPERLINK("http://example.invalid/{serial}","Apply")',
        f"+{serial}-1",
        "@SUM(A1)",
    ]
    edited = with_cell(rows, 1 + serial % (len(rows) - 1), "card_name", names[serial % len(names)])
    return csv_of(edited, "\r\n" if serial % 2 else "\n")


def corrupt_versions(base: bytes, marker: Path) -> dict[str, bytes]:
    """Files that must never be served, each broken in one way."""
    rows = rows_of(base)
    text = base.decode()
    middle = text.index("\n", len(text) // 2) + 5  # inside a row, not at a line boundary
    header = rows[0]
    return {
        "truncated mid-row": text[:middle].encode(),
        "NaN fee": csv_of(with_cell(rows, 3, "annual_fee", "NaN")),
        "formula in a number column": csv_of(with_cell(rows, 2, "purchase_apr", "=1+1")),
        "credit tier out of range": csv_of(with_cell(rows, 4, "credit_tier", "9")),
        "pickle bytes": pickle.dumps(Unpicklable(marker)),
        "pickle as text (protocol 0)": pickle.dumps(Unpicklable(marker), protocol=0),
        "UTF-16": text.encode("utf-16"),
        "header only": csv_of(rows[:1]),
        "empty": b"",
        "shrunk to 5 cards": csv_of(rows[:6]),
        "duplicate card id": csv_of(with_cell(rows, 2, "card_id", rows[1][header.index("card_id")])),
        "missing column": csv_of([row[:-1] for row in rows]),
        "extra value in a row": csv_of([*rows[:3], [*rows[3], "1"], *rows[4:]]),
        "no active card": csv_of([rows[0], *(with_cell(rows, i, "active", "no")[i] for i in range(1, len(rows)))]),
    }


def classify(data: bytes, metadata: ModelMetadata, served: Catalog) -> str | None:
    """None if the service would accept `data` in place of `served`, else why not."""
    try:
        check_shrink(served, parse_catalog(data, metadata, source="s3"), MIN_KEEP_FRACTION)
    except CatalogError as error:
        return str(error)
    return None


def version_of(data: bytes) -> str:
    return content_version(data)
