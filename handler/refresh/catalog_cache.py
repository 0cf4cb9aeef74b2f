"""The last good catalogue from S3, kept on local disk so a restarted worker can serve it while S3 is down.

Two files: the catalogue's bytes and a small JSON record (source URI, ETag, when it was fetched, content version).
Each is replaced atomically; the record names the content version, so a record that does not match the bytes
beside it (a writer interrupted between the two renames) is ignored rather than trusted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from handler.files import write_atomically
from handler.model.catalog import CATALOG_FILE, content_version

RECORD_FILE = "card_variables.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedCatalog:
    data: bytes
    etag: str | None
    fetched_at: float  # epoch seconds


class CatalogCache:
    """Last-good copy of one S3 object; a cache written for another URI is never served."""

    def __init__(self, directory: Path, source_uri: str) -> None:
        self.directory = directory
        self.source_uri = source_uri

    def save(self, data: bytes, etag: str | None, fetched_at: float) -> bool:
        """Store a catalogue that passed validation; False (logged) when the disk refuses — serving goes on."""
        record = {
            "source_uri": self.source_uri,
            "etag": etag,
            "fetched_at": fetched_at,
            "version": content_version(data),
        }
        try:
            write_atomically(self.directory / CATALOG_FILE, data)
            write_atomically(self.directory / RECORD_FILE, json.dumps(record).encode())
        except OSError as exc:
            log.warning("cannot write the catalogue cache in %s: %s", self.directory, exc.strerror or exc)
            return False
        return True

    def load(self) -> CachedCatalog | None:
        """The cached catalogue, or None when there is none usable (missing, unreadable, other URI, mismatched)."""
        try:
            record = json.loads((self.directory / RECORD_FILE).read_bytes())
            data = (self.directory / CATALOG_FILE).read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring the catalogue cache in %s: %s", self.directory, type(exc).__name__)
            return None
        if not isinstance(record, dict) or record.get("source_uri") != self.source_uri:
            return None
        fetched_at = record.get("fetched_at")
        etag = record.get("etag")
        if (
            record.get("version") != content_version(data)
            or not isinstance(fetched_at, int | float)
            or not isinstance(etag, str | None)
        ):
            log.warning("ignoring the catalogue cache in %s: its record does not match its data", self.directory)
            return None
        return CachedCatalog(data=data, etag=etag, fetched_at=float(fetched_at))
