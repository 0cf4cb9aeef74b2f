"""card_variables.csv: a validated, immutable snapshot, or a CatalogError naming the line and column."""

import numpy as np
import pytest

from handler.model.catalog import content_version, parse_catalog
from handler.model.errors import CatalogError
from tests.support.artifacts import CATALOG_HEADER, catalog_csv, catalog_row, metadata

META = metadata()


def parse(data: bytes):
    return parse_catalog(data, META, source="test")


def test_cards_features_and_flags_are_parsed_in_file_order():
    catalog = parse(catalog_csv(5, inactive=(1,)))
    assert catalog.card_ids == ("card-00", "card-01", "card-02", "card-03", "card-04")
    assert catalog.active.tolist() == [True, False, True, True, True]
    assert catalog.active_ids == ("card-00", "card-02", "card-03", "card-04")
    assert catalog.features.shape == (5, len(META.card_features))
    assert catalog.features[2, META.card_feature_names.index("annual_fee")] == 20
    assert catalog.index["card-03"] == 3
    assert len(catalog) == 5


def test_the_snapshot_cannot_be_changed():
    catalog = parse(catalog_csv(3))
    with pytest.raises(ValueError):
        catalog.features[0, 0] = 1.0
    with pytest.raises(TypeError):
        catalog.index["new"] = 9


def test_version_is_the_content_hash_so_the_same_file_has_the_same_version_anywhere():
    data = catalog_csv(4)
    assert parse(data).version == content_version(data) == parse(data).version
    assert parse(catalog_csv(5)).version != parse(data).version


def test_columns_may_come_in_any_order_with_extra_columns_bom_and_crlf():
    header = CATALOG_HEADER.split(",")
    rows = [catalog_row(i).split(",") for i in range(3)]
    order = list(reversed(range(len(header))))
    lines = [",".join([header[i] for i in order] + ["notes"])]
    lines += [",".join([row[i] for i in order] + ["free text"]) for row in rows]
    catalog = parse(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    assert catalog.card_ids == ("card-00", "card-01", "card-02")
    assert np.array_equal(catalog.features, parse(catalog_csv(3)).features)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"card_id,card_name\ncash,Cash\n", "lacks column"),
        (CATALOG_HEADER.encode() + b"\n", "no cards"),
        ((CATALOG_HEADER + "\n" + catalog_row(0) + "\n" + catalog_row(1, card_id="card-00")).encode(), "repeats"),
        ((CATALOG_HEADER + "\n" + catalog_row(0, card_id=" ")).encode(), "line 2: card_id is empty"),
        ((CATALOG_HEADER + "\n" + catalog_row(0, active="maybe")).encode(), "line 2: active"),
        ((CATALOG_HEADER + "\n" + catalog_row(0, active="no")).encode(), "no active card"),
        ((CATALOG_HEADER + "\n" + catalog_row(1).replace(",10,", ",ten,", 1)).encode(), "must be a number"),
        ((CATALOG_HEADER + "\n" + catalog_row(3).replace(",30,", ",,", 1)).encode(), "annual_fee is missing"),
        ((CATALOG_HEADER + "\n" + catalog_row(3).replace(",30,", ",5000,", 1)).encode(), "outside"),
        ((CATALOG_HEADER + "\n" + catalog_row(3).replace(",30,", ",inf,", 1)).encode(), "finite"),
        ((CATALOG_HEADER + "\n" + catalog_row(0) + ",extra").encode(), "line 2 has"),
        (catalog_csv(4)[:-30], "line 5"),  # truncated mid-row
        ("card_id\n\xe9".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_broken_catalogue_is_rejected_with_a_reason(data, message):
    with pytest.raises(CatalogError, match=message):
        parse(data)
