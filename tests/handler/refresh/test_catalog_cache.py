"""The last-good cache: what was saved comes back; anything it cannot vouch for is ignored, never served."""

import json

from handler.model.catalog import content_version
from handler.refresh.catalog_cache import CATALOG_FILE, RECORD_FILE, CatalogCache
from tests.support.artifacts import catalog_csv

URI = "s3://cards/card_variables.csv"


def test_a_saved_catalogue_loads_back_with_its_etag_and_fetch_time(tmp_path):
    cache = CatalogCache(tmp_path / "cache", URI)
    assert cache.load() is None
    assert cache.save(catalog_csv(3), '"etag-1"', 1234.5)
    loaded = cache.load()
    assert (loaded.data, loaded.etag, loaded.fetched_at) == (catalog_csv(3), '"etag-1"', 1234.5)


def test_a_cache_written_for_another_s3_object_is_not_served(tmp_path):
    CatalogCache(tmp_path, "s3://other/card_variables.csv").save(catalog_csv(3), None, 1.0)
    assert CatalogCache(tmp_path, URI).load() is None


def test_data_that_does_not_match_its_record_is_ignored(tmp_path):
    cache = CatalogCache(tmp_path, URI)
    cache.save(catalog_csv(3), '"e"', 1.0)
    (tmp_path / CATALOG_FILE).write_bytes(catalog_csv(4))  # a writer stopped between the two renames
    assert cache.load() is None


def test_an_unreadable_record_is_ignored(tmp_path):
    (tmp_path / CATALOG_FILE).write_bytes(catalog_csv(3))
    (tmp_path / RECORD_FILE).write_text("{not json")
    assert CatalogCache(tmp_path, URI).load() is None
    record = {"source_uri": URI, "etag": 7, "fetched_at": 1.0, "version": content_version(catalog_csv(3))}
    (tmp_path / RECORD_FILE).write_text(json.dumps(record))
    assert CatalogCache(tmp_path, URI).load() is None


def test_a_cache_directory_that_cannot_be_written_is_reported_not_raised(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    assert CatalogCache(blocker / "cache", URI).save(catalog_csv(3), None, 1.0) is False
