"""Holds the catalogue a worker serves; replacing it is one reference assignment (atomic under the GIL)."""

from __future__ import annotations

from handler.catalog import Catalog


class CatalogStore:
    def __init__(self, initial: Catalog) -> None:
        self._current = initial

    @property
    def current(self) -> Catalog:
        return self._current

    def replace(self, catalog: Catalog) -> Catalog:
        """Serve `catalog` from now on; returns the one it replaced."""
        previous, self._current = self._current, catalog
        return previous
