"""CatalogStore swaps whole snapshots; the change record and the shrink guard describe and police a swap."""

import pytest

from handler.model.catalog import parse_catalog
from handler.model.errors import CatalogError
from handler.refresh.catalog_store import CatalogStore, check_shrink
from tests.support.artifacts import CATALOG_HEADER, catalog_csv, catalog_row, metadata

META = metadata()


def catalog(data: bytes, source: str = "s3"):
    return parse_catalog(data, META, source=source, etag='"e"')


def test_replace_serves_the_new_snapshot_and_returns_the_old_one():
    old, new = catalog(catalog_csv(3)), catalog(catalog_csv(4))
    store = CatalogStore(old)
    assert store.replace(new) is old
    assert store.current is new


def test_swap_names_the_cards_added_and_removed_in_one_line():
    old = catalog(catalog_csv(3))
    rows = [catalog_row(1), catalog_row(2), catalog_row(7), catalog_row(8)]
    new = catalog(("\n".join([CATALOG_HEADER, *rows]) + "\n").encode())
    change = CatalogStore(old).swap(new)
    assert change.added == ("card-07", "card-08")
    assert change.removed == ("card-00",)
    line = change.summary()
    assert f"{old.version} → {new.version}" in line
    assert "4 cards" in line and "added 2 (card-07, card-08)" in line and "removed 1 (card-00)" in line


def test_long_change_lists_are_shortened_but_counted():
    change = CatalogStore(catalog(catalog_csv(1))).swap(catalog(catalog_csv(12)))
    assert "added 11 (card-01, card-02, card-03, card-04, card-05 and 6 more)" in change.summary()


def test_the_shrink_guard_refuses_a_catalogue_that_lost_too_many_cards():
    previous = catalog(catalog_csv(10))
    check_shrink(previous, catalog(catalog_csv(5)), 0.5)  # exactly half is allowed
    with pytest.raises(CatalogError, match="shrank from 10 to 4 cards"):
        check_shrink(previous, catalog(catalog_csv(4)), 0.5)
    check_shrink(previous, catalog(catalog_csv(1)), 0.0)  # 0 turns the guard off
