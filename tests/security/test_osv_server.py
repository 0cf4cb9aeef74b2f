"""The loopback OSV query API (tests/security/osv_server.py) answers like api.osv.dev/v1/query, so that an audit
against it means what an audit against OSV means."""

from __future__ import annotations

import pytest
import requests
from packaging.version import Version

from tests.security.osv_server import OsvServer, in_range, load_advisories


def query(server: OsvServer, name: str, version: str, ecosystem: str = "PyPI") -> requests.Response:
    body = {"package": {"name": name, "ecosystem": ecosystem}, "version": version}
    return requests.post(server.url, json=body, timeout=10)


def test_the_advisories_are_osv_records_with_ids_aliases_and_ecosystem_ranges():
    advisories = load_advisories()
    assert {advisory["id"] for advisory in advisories} == {"PYSEC-2018-28", "PYSEC-2021-108", "PYSEC-2021-856"}
    for advisory in advisories:
        assert advisory["aliases"] and advisory["modified"] and advisory["details"]
        for affected in advisory["affected"]:
            assert affected["package"]["ecosystem"] == "PyPI"
            assert any(r["type"] == "ECOSYSTEM" for r in affected["ranges"])


@pytest.mark.parametrize(
    ("name", "version", "ids"),
    [
        ("requests", "2.19.0", ["PYSEC-2018-28"]),  # in the advisory's versions list
        ("Requests", "2.19.1", ["PYSEC-2018-28"]),  # names compare as PEP 503 normalised
        ("requests", "2.19.2", ["PYSEC-2018-28"]),  # never released: only the ECOSYSTEM range holds it
        ("requests", "2.20.0", []),  # the fix
        ("requests", "2.33.0", []),
        ("urllib3", "1.26.4", ["PYSEC-2021-108"]),
        ("urllib3", "1.26.5", []),
        ("urllib3", "2.8.0", []),
        ("numpy", "1.19.0rc2", ["PYSEC-2021-856"]),
        ("numpy", "1.19.1", []),
        ("scikit-learn", "0.1", []),
    ],
)
def test_a_query_returns_the_advisories_affecting_that_version(osv, name, version, ids):
    response = query(osv, name, version)
    assert response.status_code == 200
    assert [vuln["id"] for vuln in response.json().get("vulns", [])] == ids


def test_a_query_for_another_ecosystem_matches_nothing(osv):
    assert query(osv, "requests", "2.19.0", ecosystem="npm").json() == {}


@pytest.mark.parametrize(
    ("version", "affected"), [("0.9", False), ("1.0", True), ("1.5", True), ("1.6", False), ("2.1", True)]
)
def test_ranges_open_at_introduced_and_close_after_last_affected_or_at_fixed(version, affected):
    events = [{"introduced": "2.0"}, {"last_affected": "1.5"}, {"introduced": "1.0"}, {"fixed": "3.0"}]
    assert in_range(events, Version(version)) is affected


def test_a_malformed_query_is_refused():
    with OsvServer(()) as server:
        assert requests.post(server.url, json={"package": {"name": "requests"}}, timeout=10).status_code == 400
        assert requests.post(server.url, data=b"not json", timeout=10).status_code == 400
        assert requests.post(server.url.replace("/v1/query", "/v1/querybatch"), json={}, timeout=10).status_code == 404


def test_failing_packages_are_answered_500_and_every_query_is_recorded():
    with OsvServer(load_advisories(), failing=["NumPy"]) as server:
        assert query(server, "numpy", "2.4.6").status_code == 500
        assert query(server, "requests", "2.19.0").status_code == 200
        assert server.queries == [("numpy", "2.4.6"), ("requests", "2.19.0")]
