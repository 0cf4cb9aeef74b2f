"""Every case of the bad-input corpus, sent to the real server: the right 4xx with a helpful JSON error, and no
MMS worker ever restarted by bad input (the workers' pids are the same after every case as before the first)."""

from __future__ import annotations

import pytest

from tests.reliability.corpus import CORPUS, Case, load_cases, problems_with

CASES = load_cases()
MEDIA_TYPES = {"application/json", "text/csv", "application/jsonlines"}
# Every 4xx code the handler answers with (docs/api.md "Errors"); each must be reached by some case.
CODES = {
    "invalid_json",
    "invalid_csv",
    "invalid_encoding",
    "empty_request",
    "missing_field",
    "unknown_field",
    "invalid_value",
    "out_of_range",
    "unknown_card",
    "unsupported_media_type",
    "not_acceptable",
}
# What the corpus must hold (issue 8), by the category each sidecar declares.
CATEGORIES = {
    "malformed_syntax",
    "encoding",
    "non_finite_or_huge",
    "wrong_type",
    "missing_field",
    "extra_field",
    "unknown_card",
    "empty",
    "header_only_or_zero_rows",
    "crlf_mix",
    "column_count",
    "deep_nesting",
    "duplicate_key",
    "over_limit",
    "out_of_range",
    "media_type",
    "accept",
    "options",
}


def test_the_corpus_covers_every_kind_of_bad_input_in_every_media_type():
    assert len(CASES) >= 100
    assert {case.category for case in CASES} >= CATEGORIES
    assert {case.code for case in CASES} == CODES | {None}
    for media_type in MEDIA_TYPES:
        kinds = {case.category for case in CASES if case.media_type == media_type}
        assert {"malformed_syntax", "encoding", "empty", "over_limit", "crlf_mix"} <= kinds, media_type
    assert {path.stem for path in CORPUS.glob("*.body")} == {case.name for case in CASES}, "a body without sidecar"
    for case in CASES:
        assert 400 <= case.status < 500 and case.description, case.name
        assert (case.code is None) == (case.status == 413), f"{case.name}: only MMS's 413 has no error code"


@pytest.fixture(scope="module")
def workers_at_start(servers, demo_model) -> set[int]:
    """The workers of the default server (the one `mms` gives) before the first case."""
    pids = servers.get({"MODEL_DIR": str(demo_model)}).worker_pids()
    assert pids
    return pids


@pytest.mark.mms
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_helpful_4xx_and_no_worker_restarts(mms, workers_at_start, case: Case):
    answer = case.send(mms.url)
    assert problems_with(case, answer) == [], case.description
    assert mms.worker_pids() == workers_at_start, f"{case.name} restarted a worker"
