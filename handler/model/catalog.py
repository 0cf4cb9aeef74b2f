"""The card catalogue (card_variables.csv) as an immutable, validated snapshot.

A Catalog is built once from the file's bytes and never changed: the precomputed card feature matrix
is read-only, so a request holding a reference always sees one consistent catalogue.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from config.parsing import parse_boolean
from handler.model.errors import CatalogError
from handler.model.metadata import FeatureSpec, ModelMetadata

CATALOG_FILE = "card_variables.csv"  # its name in the model directory, the S3 cache and training's cards channel
CARD_NAME_COLUMN = "card_name"
ACTIVE_COLUMN = "active"


def content_version(data: bytes) -> str:
    """A short, stable version for a catalogue's bytes: the same file has the same version wherever it came from."""
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class Catalog:
    version: str
    source: str  # "bundled", "cache" or "s3"
    fetched_at: float  # epoch seconds
    card_ids: tuple[str, ...]
    card_names: tuple[str, ...]
    active: np.ndarray  # bool, one per card, read-only
    features: np.ndarray  # float64 (cards x card features in metadata order), read-only
    etag: str | None = None
    index: MappingProxyType[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @functools.cached_property  # a catalogue never changes: every request with the default selection reuses it
    def active_rows(self) -> np.ndarray:
        rows = np.flatnonzero(self.active)
        rows.setflags(write=False)
        return rows

    @functools.cached_property
    def active_ids(self) -> tuple[str, ...]:
        return tuple(self.card_ids[row] for row in self.active_rows)

    def __len__(self) -> int:
        return len(self.card_ids)


def parse_catalog(
    data: bytes,
    metadata: ModelMetadata,
    *,
    source: str,
    etag: str | None = None,
    fetched_at: float | None = None,
) -> Catalog:
    """Parse and validate card_variables.csv; raise CatalogError naming the first row/column at fault."""
    rows = _rows(data)
    header, body = rows[0], rows[1:]
    id_column = metadata.card_id_column
    needed = [id_column, CARD_NAME_COLUMN, ACTIVE_COLUMN, *metadata.card_feature_names]
    missing = [name for name in needed if name not in header]
    if missing:
        raise CatalogError(f"card catalogue lacks column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise CatalogError("card catalogue repeats a column name")
    if not body:
        raise CatalogError("card catalogue has a header but no cards")
    position = {name: i for i, name in enumerate(header)}
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise CatalogError(f"card catalogue line {line} has {len(row)} values, the header has {len(header)}")

    ids = tuple(row[position[id_column]].strip() for row in body)
    for line, card_id in enumerate(ids, start=2):
        if not card_id:
            raise CatalogError(f"card catalogue line {line}: {id_column} is empty")
    if len(set(ids)) != len(ids):
        duplicated = sorted({card for card in ids if ids.count(card) > 1})
        raise CatalogError(f"card catalogue repeats {id_column} {', '.join(duplicated[:5])}")

    active = np.array([_flag(row[position[ACTIVE_COLUMN]], line) for line, row in enumerate(body, start=2)])
    if not active.any():
        raise CatalogError("card catalogue has no active card")
    features = np.empty((len(body), len(metadata.card_features)), dtype=np.float64)
    for column, spec in enumerate(metadata.card_features):
        for line, row in enumerate(body, start=2):
            features[line - 2, column] = _value(row[position[spec.name]], spec, line)
    active.setflags(write=False)
    features.setflags(write=False)
    return Catalog(
        version=content_version(data),
        source=source,
        fetched_at=time.time() if fetched_at is None else fetched_at,
        card_ids=ids,
        card_names=tuple(row[position[CARD_NAME_COLUMN]].strip() for row in body),
        active=active,
        features=features,
        etag=etag,
        index=MappingProxyType({card: i for i, card in enumerate(ids)}),
    )


def _rows(data: bytes) -> list[list[str]]:
    if not data.strip():
        raise CatalogError("card catalogue is empty")
    if b"\x00" in data:
        raise CatalogError("card catalogue is binary, not CSV text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"card catalogue is not UTF-8 text (byte {exc.start})") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if any(v.strip() for v in row)]
    except csv.Error as exc:
        raise CatalogError(f"card catalogue is not valid CSV: {exc}") from None
    rows[0] = [name.strip() for name in rows[0]]
    return rows


def _flag(text: str, line: int) -> bool:
    value = parse_boolean(text)
    if value is None:
        raise CatalogError(f"card catalogue line {line}: {ACTIVE_COLUMN} must be 1/0, true/false or yes/no")
    return value


def _value(text: str, spec: FeatureSpec, line: int) -> float:
    text = text.strip()
    if not text:
        if spec.required:
            raise CatalogError(f"card catalogue line {line}: {spec.name} is missing")
        return float(spec.default if spec.default is not None else math.nan)
    if spec.type == "boolean":
        flag = parse_boolean(text)
        if flag is None:
            raise CatalogError(f"card catalogue line {line}: {spec.name} must be a boolean")
        return float(flag)
    try:
        value = float(text)
    except ValueError:
        raise CatalogError(f"card catalogue line {line}: {spec.name} must be a number") from None
    if not math.isfinite(value):
        raise CatalogError(f"card catalogue line {line}: {spec.name} must be a finite number")
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise CatalogError(f"card catalogue line {line}: {spec.name} is outside [{spec.min}, {spec.max}]")
    return value
