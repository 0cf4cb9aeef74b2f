"""Batch transform through the real MMS (handler/worker/service.py under batch settings): multi-MB MultiRecord requests
(SAGEMAKER_MAX_PAYLOAD_IN_MB=40) answer exactly one line per applicant, in order, with no blank line, and the odds
of in-process scoring.

Sizes are what each contract needs, no more: these tests must pass on a CI machine whose cores are busy with another
job. Throughput on large requests is measured by bench/ (its batch rows), not here."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import requests

from tests.support.batch import (
    CSV_TOLERANCE,
    DEFAULT_CARDS,
    applicant_table,
    csv_lines,
    csv_odds,
    jsonl_lines,
    repeating_table,
    scored,
    scored_repeating,
)

pytestmark = pytest.mark.mms

CSV, JSONL = "text/csv", "application/jsonlines"
REAL_TIME_LIMIT = 6 * 2**20  # InvokeEndpoint's cap: batch requests go beyond it
PAYLOAD_LIMIT = 40 * 2**20  # SAGEMAKER_MAX_PAYLOAD_IN_MB of tests.support.batch.batch_env
REQUEST_HANG_GUARD_SECONDS = 300  # a request that hangs fails here, inside pytest's per-test timeout


def invoke(server, body: bytes, content_type: str, accept: str = CSV) -> requests.Response:
    headers = {"Content-Type": content_type, "Accept": accept}
    return requests.post(server.url + "/invocations", data=body, headers=headers, timeout=REQUEST_HANG_GUARD_SECONDS)


def assert_lines(answer: requests.Response, n: int) -> None:
    assert answer.status_code == 200, answer.text[:500]
    assert answer.content.count(b"\n") == n - 1, "one line per applicant"
    assert not answer.content.endswith(b"\n"), "batch transform adds the line break: a trailing one is a blank line"
    assert b"\n\n" not in answer.content


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("header", [False, True], ids=["no-header", "header"])
def test_a_multi_mb_csv_request_answers_each_line_in_order(server, artifact, names, header, newline):
    table = repeating_table(250_000, seed=len(newline) + 2 * header)  # 6.5 MB and more
    body = csv_lines(table, names, header, newline)
    assert len(body) > REAL_TIME_LIMIT
    answer = invoke(server, body, CSV)
    assert_lines(answer, len(table))
    odds = csv_odds(answer.content)
    assert odds.shape == (len(table), len(DEFAULT_CARDS))
    assert np.abs(odds - scored_repeating(artifact, table)).max() <= CSV_TOLERANCE


def pseudonymous_ids(n: int) -> list[str]:
    """64-character applicant IDs, as a card issuer's batch file carries them (hashes of its own references)."""
    return [hashlib.sha256(b"applicant-%d" % i).hexdigest() for i in range(n)]


def test_tens_of_mb_above_the_real_time_limit_go_through_whole(server, artifact, names):
    """A 24 MB body, four times InvokeEndpoint's limit, comes back whole: one line per applicant, each naming its
    applicant in order, with exact odds. Long IDs make the megabytes with 275,000 applicants (scoring is what takes
    the time: ~40 us an applicant on a quiet machine, several times that on a busy one)."""
    table = repeating_table(275_000, seed=9)
    ids = pseudonymous_ids(len(table))
    features = csv_lines(table, names).splitlines()
    lines = [b"applicant_id," + b",".join(name.encode() for name in names)]
    lines += [b"%s,%s" % (applicant.encode(), row) for applicant, row in zip(ids, features, strict=True)]
    body = b"\n".join(lines) + b"\n"
    assert 4 * REAL_TIME_LIMIT < len(body) <= PAYLOAD_LIMIT
    answer = invoke(server, body, CSV, JSONL)
    assert_lines(answer, len(table))
    results = [json.loads(line) for line in answer.content.split(b"\n")]
    assert [result["applicant_id"] for result in results] == ids, "every applicant, in the order sent"
    odds = np.array([[entry["approval_odds"] for entry in sorted(r["odds"], key=order_of(artifact))] for r in results])
    assert np.abs(odds - scored_repeating(artifact, table)).max() <= 1e-14


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("accept", [CSV, JSONL])
def test_a_multi_mb_jsonlines_request_answers_each_line_in_order(server, artifact, names, newline, accept):
    table = applicant_table(40_000, seed=3)
    body = jsonl_lines(table, names, newline)
    assert len(body) > REAL_TIME_LIMIT
    answer = invoke(server, body, JSONL, accept)
    assert_lines(answer, len(table))
    expected = scored(artifact, table)
    if accept == CSV:
        assert np.abs(csv_odds(answer.content) - expected).max() <= CSV_TOLERANCE
        return
    results = [json.loads(line) for line in answer.content.split(b"\n")]
    odds = np.array([[entry["approval_odds"] for entry in sorted(r["odds"], key=order_of(artifact))] for r in results])
    assert np.abs(odds - expected).max() <= 1e-14


def order_of(artifact):
    """Sort key: a card's catalogue position (JSON Lines lists each applicant's odds highest first)."""
    return lambda entry: artifact.bundled_catalog.index[entry["card_id"]]


def test_csv_columns_are_the_default_cards_in_catalogue_order(server, artifact, names):
    table = applicant_table(5, seed=4)
    answer = invoke(server, csv_lines(table, names), CSV, JSONL)
    cards = [[entry["card_id"] for entry in json.loads(line)["odds"]] for line in answer.content.split(b"\n")]
    assert {tuple(sorted(row)) for row in cards} == {tuple(sorted(DEFAULT_CARDS))}
    catalogue_order = sorted(DEFAULT_CARDS, key=artifact.bundled_catalog.index.__getitem__)
    odds = csv_odds(invoke(server, csv_lines(table, names), CSV).content)
    assert np.abs(odds - scored(artifact, table, catalogue_order)).max() <= CSV_TOLERANCE


@pytest.mark.parametrize("header", [False, True], ids=["no-header", "header"])
def test_one_bad_line_in_100000_is_a_400_naming_its_line(server, names, header):
    table = applicant_table(100_000, seed=5)
    lines = csv_lines(table, names, header).split(b"\n")
    bad = 73_457  # 1-based applicant; a header line is not counted
    cells = lines[bad - 1 + header].split(b",")
    cells[-2 if header else 1] = b"abc"  # age (columns reversed under a header)
    lines[bad - 1 + header] = b",".join(cells)
    answer = invoke(server, b"\n".join(lines), CSV)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_value"
    assert [(d["row"], d["field"]) for d in error["details"]] == [(bad, "age")]


def test_one_bad_jsonlines_line_in_100000_is_a_400_naming_its_line(server, names):
    lines = jsonl_lines(applicant_table(100_000, seed=6), names).split(b"\n")
    lines[41_999] = lines[41_999].replace(b'"age": ', b'"age": 1', 1)  # 1xx: over the maximum of 100
    answer = invoke(server, b"\n".join(lines), JSONL)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert [(error["code"], d["row"], d["field"]) for d in error["details"]] == [("out_of_range", 42_000, "age")]


def test_a_request_over_the_configured_payload_limit_is_413(server):
    assert invoke(server, b"1" * (40 * 2**20 + 1), CSV).status_code == 413
