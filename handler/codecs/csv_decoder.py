"""text/csv bodies → ScoringRequest.

Without a header, each line holds exactly the applicant features in metadata order. The first line is a header
when it names a known column (then columns are matched by name in any order and `applicant_id` may be one of
them); a first line holding neither a known name nor any number or boolean is refused. Blank lines are
skipped; rows count applicants only.

Cells are converted a kind at a time: all number columns whose text holds only number characters go through one
numpy conversion, all boolean cells through one lookup of their distinct spellings; only a table that fails the
fast path is examined cell by cell to find the rows at fault.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from itertools import chain

import numpy as np

from config.parsing import parse_boolean
from handler.errors import bad_request
from handler.model.features import APPLICANT_ID, FeatureTable, read_number, validated_features
from handler.model.metadata import ModelMetadata
from handler.model.request import ScoringRequest
from handler.problems import Problem, empty_request, reject

# Decimal notation only ("1_000", "0x10", "nan", "inf" and non-ASCII digits are refused): the fast path
# lets numpy convert a column only when its text has no other character, and the slow path uses read_number.
_NOT_NUMBER_CHARACTER = re.compile(r"[^0-9.eE+\- \t]")
_ABSENT, _UNREADABLE = -1.0, -2.0  # boolean cell codes besides 0.0 and 1.0


def decode_csv(text: str, metadata: ModelMetadata) -> ScoringRequest:
    rows = _rows(text)
    if not rows:
        raise empty_request("the CSV holds no applicants")
    header = _header(rows[0], metadata) if _is_header(rows[0], metadata) else None
    if header is not None:
        rows = rows[1:]
        if not rows:
            raise empty_request("the CSV has a header but no applicant rows")
    columns = header or metadata.applicant_feature_names
    widths = [
        Problem("invalid_csv", row, None, f"has {len(cells)} values, expected {len(columns)}")
        for row, cells in enumerate(rows)
        if len(cells) != len(columns)
    ]
    if widths:
        raise reject(widths)
    by_name = dict(zip(columns, zip(*rows, strict=True), strict=True))
    ids: list[str | int | None] = (
        [cell.strip() or None for cell in by_name[APPLICANT_ID]] if APPLICANT_ID in by_name else [None] * len(rows)
    )
    table = _table([by_name.get(spec.name) for spec in metadata.applicant_features], metadata, len(rows))
    features, problems = validated_features(metadata.applicant_features, table)
    if problems:
        raise reject(problems)
    return ScoringRequest(applicant_ids=ids, features=features)


def _rows(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return [cells for cells in reader if len(cells) > 1 or (cells and cells[0].strip())]
    except csv.Error as exc:
        raise bad_request("invalid_csv", f"the body is not valid CSV: line {reader.line_num}: {exc}") from None


def _is_header(cells: list[str], metadata: ModelMetadata) -> bool:
    """True when the first line names a known column; a line of neither names nor values is refused."""
    known = {*metadata.applicant_feature_names, APPLICANT_ID}
    stripped = [cell.strip() for cell in cells]
    if any(cell in known for cell in stripped):
        return True
    if not any(stripped) or any(read_number(cell) is not None or parse_boolean(cell) is not None for cell in stripped):
        return False  # a row of values (or of empty cells: reported as missing values)
    # Not echoed: cells of a line that is not a header may be applicant data.
    raise bad_request(
        "invalid_csv",
        "the first line is neither a header naming this model's columns nor a row of values; columns: "
        + ", ".join((APPLICANT_ID, *metadata.applicant_feature_names)),
    )


def _header(cells: list[str], metadata: ModelMetadata) -> tuple[str, ...]:
    """The header's column names, or a 400 naming every unknown, repeated, unnamed or missing column."""
    names = tuple(cell.strip() for cell in cells)
    known = {*metadata.applicant_feature_names, APPLICANT_ID}
    problems = [
        Problem("invalid_csv", None, None, f"header column {position} has no name")
        for position, name in enumerate(names, start=1)
        if not name
    ]
    problems += [
        Problem("invalid_csv", None, name, "appears more than once in the header")
        for name in sorted({name for name in names if name and names.count(name) > 1})
    ]
    problems += [
        Problem("unknown_field", None, name, "is not a feature of this model")
        for name in dict.fromkeys(names)
        if name and name not in known
    ]
    problems += [
        Problem("missing_field", None, spec.name, "is a required column")
        for spec in metadata.applicant_features
        if spec.required and spec.name not in names
    ]
    if problems:
        raise reject(problems)
    return names


def _table(columns: Sequence[Sequence[str] | None], metadata: ModelMetadata, rows: int) -> FeatureTable:
    """Columns of cells (None: the header has no such optional column) → a table of floats and masks.

    All number columns go through one conversion and all boolean columns through one lookup."""
    specs = metadata.applicant_features
    values = np.zeros((rows, len(specs)))
    absent = np.zeros((rows, len(specs)), dtype=bool)
    unreadable = np.zeros((rows, len(specs)), dtype=bool)
    absent[:, [position for position, cells in enumerate(columns) if cells is None]] = True
    for kind, convert in (("number", _numbers), ("boolean", _booleans)):
        present = [(position, cells) for position, cells in enumerate(columns) if cells is not None]
        chosen = [position for position, _ in present if specs[position].type == kind]
        if chosen:
            cells_of = dict(present)
            values[:, chosen], absent[:, chosen], unreadable[:, chosen] = convert([cells_of[i] for i in chosen])
    return FeatureTable(values, absent if absent.any() else None, unreadable if unreadable.any() else None)


def _numbers(columns: list[Sequence[str]]) -> tuple[np.ndarray, np.ndarray | bool, np.ndarray | bool]:
    """(values, absent, unreadable), rows x columns. One numpy conversion when the text holds only number
    characters; only a table that fails it is examined cell by cell to find the cells at fault."""
    if not _NOT_NUMBER_CHARACTER.search("".join(chain.from_iterable(columns))):
        try:
            return np.array(columns, dtype=np.float64).T, False, False
        except ValueError:  # an empty or malformed cell: found below
            pass
    blank = np.array([[not cell.strip() for cell in column] for column in columns]).T
    numbers = [[read_number(cell) for cell in column] for column in columns]
    unreadable = np.array([[number is None for number in column] for column in numbers]).T
    values = np.array([[0.0 if number is None else number for number in column] for column in numbers]).T
    return values, blank, unreadable & ~blank


def _booleans(columns: list[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, absent, unreadable), rows x columns. Few distinct spellings however many rows: decide each once."""
    codes = {cell: _boolean_code(cell) for cell in set(chain.from_iterable(columns))}
    count = len(columns) * len(columns[0])
    coded = np.fromiter(map(codes.__getitem__, chain.from_iterable(columns)), dtype=np.float64, count=count)
    coded = coded.reshape(len(columns), -1).T
    return coded, coded == _ABSENT, coded == _UNREADABLE


def _boolean_code(cell: str) -> float:
    if not cell.strip():
        return _ABSENT
    flag = parse_boolean(cell)
    return _UNREADABLE if flag is None else float(flag)
