"""Past applications (applicant features + card_id + approved) read from a channel into the estimator's matrix.

Every problem is reported as "<channel>/<file> line L, column C: problem" — never with the cell's value,
which is personal credit data. Line numbers count the header as line 1, as an editor shows them.
Applicant features are checked by the same rules as a scoring request's (handler.model.features), so training
and serving agree on what a valid applicant is.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config.parsing import parse_boolean
from handler.model.catalog import Catalog
from handler.model.features import FeatureTable, read_number, validated_features
from handler.model.metadata import FeatureSpec, ModelMetadata
from training.errors import TrainingError
from training.features import LABEL_COLUMN
from training.paths import channel_files


@dataclass(frozen=True)
class FileSummary:
    name: str  # channel-relative, e.g. "train/applications.csv"
    rows: int
    sha256: str

    def as_dict(self) -> dict[str, str | int]:
        return {"name": self.name, "rows": self.rows, "sha256": self.sha256}


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # float64 (rows x features, metadata.feature_order)
    labels: np.ndarray  # int64 0/1
    files: tuple[FileSummary, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> Dataset:
        return Dataset(self.features[rows], self.labels[rows], self.files)


@dataclass(frozen=True)
class _Table:
    """One file's data rows as text, with the file line each one is on."""

    name: str
    position: dict[str, int]  # column name → index in a row
    lines: list[int]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        index = self.position[name]
        return [row[index].strip() for row in self.rows]

    def fail(self, row: int, column: str, problem: str) -> TrainingError:
        return TrainingError(f"{self.name} line {self.lines[row]}, column {column}: {problem}")


def read_channel(directory: Path, channel: str, metadata: ModelMetadata, catalog: Catalog) -> Dataset:
    """Every CSV file of the channel, validated and joined with the catalogue's card features."""
    parts = [
        _read_file(path, f"{channel}/{path.relative_to(directory).as_posix()}", metadata, catalog)
        for path in channel_files(directory, channel)
    ]
    features = np.concatenate([part.features for part in parts])
    labels = np.concatenate([part.labels for part in parts])
    return Dataset(features, labels, tuple(file for part in parts for file in part.files))


def require_both_classes(dataset: Dataset, channel: str) -> None:
    counts = np.bincount(dataset.labels, minlength=2)
    if counts.min() == 0:
        only = int(np.argmax(counts))
        names = ", ".join(file.name for file in dataset.files)
        raise TrainingError(
            f"{names}: column {LABEL_COLUMN} is {only} on all {len(dataset)} rows of channel {channel}; "
            "a model needs both approved (1) and declined (0) applications"
        )


def _read_file(path: Path, name: str, metadata: ModelMetadata, catalog: Catalog) -> Dataset:
    data = path.read_bytes()
    table = _table(data, name, metadata)
    order = {feature: i for i, feature in enumerate(metadata.feature_order)}
    features = np.empty((len(table.rows), len(order)), dtype=np.float64)
    features[:, [order[n] for n in metadata.applicant_feature_names]] = _applicant_features(table, metadata)
    features[:, [order[n] for n in metadata.card_feature_names]] = catalog.features[
        _card_rows(table, metadata.card_id_column, catalog)
    ]
    summary = FileSummary(name, len(table.rows), hashlib.sha256(data).hexdigest())
    return Dataset(features, _labels(table), (summary,))


def _table(data: bytes, name: str, metadata: ModelMetadata) -> _Table:
    if not data.strip():
        raise TrainingError(f"{name} is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrainingError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip() for column in next(reader)]
        position = _columns(header, name, metadata)
        numbered = list(_numbered(reader))
    except csv.Error as exc:
        raise TrainingError(f"{name} line {reader.line_num}: not valid CSV: {exc}") from None
    if not numbered:
        raise TrainingError(f"{name} has a header but no data rows")
    for line, row in numbered:
        if len(row) != len(header):
            raise TrainingError(f"{name} line {line}: {len(row)} values, the header has {len(header)}")
    return _Table(name, position, [line for line, _ in numbered], [row for _, row in numbered])


def _columns(header: list[str], name: str, metadata: ModelMetadata) -> dict[str, int]:
    needed = [*metadata.applicant_feature_names, metadata.card_id_column, LABEL_COLUMN]
    missing = [column for column in needed if column not in header]
    if missing:
        raise TrainingError(f"{name} line 1: missing column(s) {', '.join(missing)}")
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise TrainingError(f"{name} line 1: column(s) {', '.join(repeated)} appear more than once")
    return {column: header.index(column) for column in needed}


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the file line they end on (csv.reader's line_num counts quoted newlines too)."""
    for row in reader:
        if any(value.strip() for value in row):
            yield reader.line_num, row  # type: ignore[attr-defined]


def _applicant_features(table: _Table, metadata: ModelMetadata) -> np.ndarray:
    specs = metadata.applicant_features
    features, problems = validated_features(specs, _feature_table(table, specs))
    if problems:
        column = {spec.name: i for i, spec in enumerate(specs)}
        first = min(problems, key=lambda problem: (problem.row or 0, column.get(problem.field or "", 0)))
        assert first.row is not None and first.field is not None, "validated_features reports cells only"
        raise table.fail(first.row, first.field, first.text)
    return features


def _feature_table(table: _Table, specs: tuple[FeatureSpec, ...]) -> FeatureTable:
    values = np.zeros((len(table.rows), len(specs)), dtype=np.float64)
    absent = np.zeros(values.shape, dtype=bool)
    unreadable = np.zeros(values.shape, dtype=bool)
    for column, spec in enumerate(specs):
        read = parse_boolean if spec.type == "boolean" else read_number
        for row, cell in enumerate(table.column(spec.name)):
            value = read(cell) if cell else None
            if value is not None:
                values[row, column] = value
            elif cell:
                unreadable[row, column] = True
            else:
                absent[row, column] = True
    return FeatureTable(values, absent, unreadable)


def _card_rows(table: _Table, id_column: str, catalog: Catalog) -> np.ndarray:
    card_ids = table.column(id_column)
    for row, card_id in enumerate(card_ids):
        if card_id not in catalog.index:
            raise table.fail(row, id_column, f"card id {card_id!r} is not in the card catalogue")
    return np.array([catalog.index[card_id] for card_id in card_ids], dtype=np.intp)


def _labels(table: _Table) -> np.ndarray:
    labels = [parse_boolean(cell) for cell in table.column(LABEL_COLUMN)]
    for row, label in enumerate(labels):
        if label is None:
            raise table.fail(row, LABEL_COLUMN, "must be 0 (declined) or 1 (approved)")
    return np.array(labels, dtype=np.int64)
