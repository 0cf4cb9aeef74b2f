"""Holds the catalogue a worker serves; replacing it is one reference assignment (atomic under the GIL).

A request reads `store.current` once and keeps that snapshot, so it sees the old or the new catalogue, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass

from handler.model.catalog import Catalog
from handler.model.errors import CatalogError

SHOWN_CARD_IDS = 5  # card ids named in a change log line; the counts are always complete


@dataclass(frozen=True)
class CatalogChange:
    previous: Catalog
    current: Catalog

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(card for card in self.current.card_ids if card not in self.previous.index)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(card for card in self.previous.card_ids if card not in self.current.index)

    def summary(self) -> str:
        """One log line: old → new version, card count, cards added/removed (ids are not personal data)."""
        return (
            f"card catalogue {self.previous.version} → {self.current.version} from {self.current.source}"
            f" (etag {self.current.etag}): {len(self.current)} cards, {len(self.current.active_ids)} active;"
            f" added {_listed(self.added)}; removed {_listed(self.removed)}"
        )


def _listed(cards: tuple[str, ...]) -> str:
    shown = ", ".join(cards[:SHOWN_CARD_IDS])
    more = f" and {len(cards) - SHOWN_CARD_IDS} more" if len(cards) > SHOWN_CARD_IDS else ""
    return f"{len(cards)}" + (f" ({shown}{more})" if cards else "")


def check_shrink(previous: Catalog, candidate: Catalog, min_keep_fraction: float) -> None:
    """Refuse a catalogue that suddenly lost most of its cards (a truncated export, a wrong file)."""
    if len(candidate) < min_keep_fraction * len(previous):
        raise CatalogError(
            f"card catalogue shrank from {len(previous)} to {len(candidate)} cards, below the configured"
            f" minimum of {min_keep_fraction:g} of the previous count"
        )


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

    def swap(self, catalog: Catalog) -> CatalogChange:
        """Serve `catalog` from now on; returns what changed (for the one log line per change)."""
        return CatalogChange(previous=self.replace(catalog), current=catalog)
