"""The served contract, end to end through the real MMS: content types x Accept, options and every error status.

These tests talk HTTP to `entrypoint.py serve` (Java frontend + Python workers) on loopback.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import requests

from handler.model.request import ScoringRequest
from handler.model.scoring import score
from tests.support.artifacts import applicant

pytestmark = pytest.mark.mms

CSV, JSON, JSONL = "text/csv", "application/json", "application/jsonlines"
ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"


def applicants(n: int) -> list[dict]:
    return [
        {
            "applicant_id": f"a-{i}",
            **applicant(age=22 + 3 * i, annual_income=18_000 + 9_000 * i, derogatory_reports=i % 3),
        }
        for i in range(n)
    ]


def csv_body(rows: list[dict], names, header: bool = False, newline: str = "\n") -> bytes:
    """Without a header: features in metadata order. With one: applicant_id first, features reversed."""
    columns = ["applicant_id", *reversed(names)] if header else list(names)
    lines = [",".join(columns)] if header else []
    lines += [",".join(str(row[name]) for name in columns) for row in rows]
    return (newline.join(lines) + newline).encode()


def invoke(server, body: bytes, content_type: str | None = JSON, accept: str | None = None, **headers):
    sent = dict(headers)
    if content_type is not None:
        sent["Content-Type"] = content_type
    if accept is not None:
        sent["Accept"] = accept
    return requests.post(server.url + "/invocations", data=body, headers=sent, timeout=30)


def expected_odds(artifact, rows, names) -> np.ndarray:
    """In-process scoring of the same applicants against every active bundled card."""
    features = np.array([[float(row[name]) for name in names] for row in rows])
    request = ScoringRequest(applicant_ids=[row["applicant_id"] for row in rows], features=features)
    return score(artifact, artifact.bundled_catalog, request, None).odds


def test_ping_is_healthy(mms):
    answer = requests.get(mms.url + "/ping", timeout=5)
    assert answer.status_code == 200


@pytest.mark.parametrize("accept", [None, "*/*", JSON, "application/json; q=1.0, text/csv; q=0.5"])
def test_json_request_gives_odds_for_every_active_card_highest_first(mms, artifact, names, accept):
    rows = applicants(3)
    answer = invoke(mms, json.dumps({"applicants": rows}).encode(), accept=accept)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith(JSON)
    body = answer.json()
    catalog = artifact.bundled_catalog
    assert body["model_version"] == artifact.metadata.model_version
    assert body["catalog_version"] == catalog.version
    assert [result["applicant_id"] for result in body["results"]] == ["a-0", "a-1", "a-2"]
    expected = expected_odds(artifact, rows, names)
    active = catalog.active_ids
    for result, row_odds in zip(body["results"], expected, strict=True):
        odds = [entry["approval_odds"] for entry in result["odds"]]
        assert odds == sorted(odds, reverse=True)
        assert sorted(entry["card_id"] for entry in result["odds"]) == sorted(active)
        by_card = {entry["card_id"]: entry["approval_odds"] for entry in result["odds"]}
        assert [by_card[card] for card in active] == pytest.approx(list(row_odds), abs=1e-9)


def test_a_single_applicant_object_is_accepted(mms):
    answer = invoke(mms, json.dumps({"applicant": applicants(1)[0]}).encode())
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"]) == 1


@pytest.mark.parametrize("content_type", [CSV, "text/csv; charset=utf-8", "text/csv;charset=UTF-8"])
@pytest.mark.parametrize("accept", [CSV, JSONL, JSON])
@pytest.mark.parametrize("header", [False, True])
def test_csv_in_every_format_out(mms, artifact, names, content_type, accept, header):
    rows = applicants(4)
    answer = invoke(mms, csv_body(rows, names, header=header, newline="\r\n"), content_type, accept)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith(accept)
    ids = [row["applicant_id"] for row in rows] if header else [None] * len(rows)
    assert_one_result_per_applicant(answer, accept, artifact, rows, names, ids)


@pytest.mark.parametrize("accept", [CSV, JSONL, JSON])
def test_jsonlines_in_every_format_out(mms, artifact, names, accept):
    rows = applicants(5)
    body = "\n".join(json.dumps(row) for row in rows).encode()
    answer = invoke(mms, body, JSONL, accept)
    assert answer.status_code == 200, answer.text
    assert_one_result_per_applicant(answer, accept, artifact, rows, names, [row["applicant_id"] for row in rows])


def assert_one_result_per_applicant(answer, accept, artifact, rows, names, ids):
    expected = expected_odds(artifact, rows, names)
    text = answer.text
    if accept == JSON:
        assert [result["applicant_id"] for result in answer.json()["results"]] == ids
        return
    assert not text.endswith("\n"), "batch transform appends the newline itself"
    lines = text.split("\n")
    assert len(lines) == len(rows)
    if accept == CSV:
        # One value per active card, in catalogue order, no id column, no header.
        values = np.array([[float(v) for v in line] for line in csv.reader(io.StringIO(text))])
        assert values.shape == expected.shape
        assert np.allclose(values, expected, atol=1e-6)
    else:
        objects = [json.loads(line) for line in lines]
        assert [o["applicant_id"] for o in objects] == ids
        for obj, row_odds in zip(objects, expected, strict=True):
            assert max(entry["approval_odds"] for entry in obj["odds"]) == pytest.approx(row_odds.max(), abs=1e-9)


def test_csv_without_header_has_no_applicant_ids(mms, names):
    answer = invoke(mms, csv_body(applicants(2), names), CSV, JSON)
    assert [result["applicant_id"] for result in answer.json()["results"]] == [None, None]


def test_top_k_and_card_subsets_in_the_body(mms, artifact):
    cards = list(artifact.bundled_catalog.active_ids[:5])
    answer = invoke(mms, json.dumps({"applicants": applicants(2), "cards": cards, "top_k": 2}).encode())
    assert answer.status_code == 200, answer.text
    for result in answer.json()["results"]:
        assert len(result["odds"]) == 2
        assert {entry["card_id"] for entry in result["odds"]} <= set(cards)


def test_card_subset_sets_csv_columns_in_catalogue_order(mms, artifact, names):
    catalog = artifact.bundled_catalog
    chosen = [catalog.active_ids[3], catalog.active_ids[0]]
    answer = invoke(mms, csv_body(applicants(2), names), CSV, CSV, **{ATTRIBUTES: f"cards={','.join(chosen)}"})
    assert answer.status_code == 200, answer.text
    full = invoke(mms, csv_body(applicants(2), names), CSV, CSV)
    full_values = [line.split(",") for line in full.text.split("\n")]
    values = [line.split(",") for line in answer.text.split("\n")]
    first, fourth = catalog.active_ids.index(chosen[1]), catalog.active_ids.index(chosen[0])
    assert values == [[row[first], row[fourth]] for row in full_values]


def test_custom_attributes_set_options_and_unknown_keys_are_ignored(mms):
    answer = invoke(
        mms, json.dumps({"applicants": applicants(1)}).encode(), **{ATTRIBUTES: "trace=abc; top_k=3; team=risk"}
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"][0]["odds"]) == 3


def test_request_without_content_type_is_json(mms):
    answer = invoke(mms, json.dumps({"applicants": applicants(1)}).encode(), content_type=None)
    assert answer.status_code == 200, answer.text


def error_of(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(JSON)
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in answer.text
    return error


def test_every_error_status_has_a_json_body_naming_the_problem(mms, names):
    pids_before = mms.worker_pids()
    rows = applicants(3)
    rows[1]["age"] = 140
    error = error_of(invoke(mms, json.dumps({"applicants": rows}).encode()), 400, "out_of_range")
    assert error["details"][0]["row"] == 2
    assert error["details"][0]["field"] == "age"

    rows = applicants(2)
    del rows[0]["annual_income"]
    error = error_of(invoke(mms, json.dumps({"applicants": rows}).encode()), 400, "missing_field")
    assert error["details"][0]["field"] == "annual_income"

    rows = applicants(1)
    rows[0]["anual_income"] = 1
    error = error_of(invoke(mms, json.dumps({"applicants": rows}).encode()), 400, "unknown_field")
    assert error["details"][0]["field"] == "anual_income"

    rows = applicants(1)
    rows[0]["age"] = "thirty"
    error_of(invoke(mms, json.dumps({"applicants": rows}).encode()), 400, "invalid_value")

    error_of(invoke(mms, b'{"applicants": [', JSON), 400, "invalid_json")
    error_of(invoke(mms, b"", JSON), 400, "empty_request")
    error_of(invoke(mms, b"1,2,3\n", CSV), 400, "invalid_csv")
    body = json.dumps({"applicants": applicants(1), "cards": ["no-such-card"]}).encode()
    error = error_of(invoke(mms, body), 400, "unknown_card")
    assert "no-such-card" in json.dumps(error)
    error_of(invoke(mms, json.dumps({"applicants": applicants(1), "top_k": 0}).encode()), 400, "invalid_value")
    error_of(invoke(mms, b"{}", JSON, accept="application/xml"), 406, "not_acceptable")
    error_of(invoke(mms, b"<a/>", "application/xml"), 415, "unsupported_media_type")
    error_of(invoke(mms, b"1,2", "text/csv; charset=latin-1"), 415, "unsupported_media_type")
    assert mms.worker_pids() == pids_before, "bad input must never kill a worker"


def test_a_body_over_the_limit_is_413(mms, names):
    big = csv_body(applicants(1), names) * (7 * 1024 * 1024 // len(csv_body(applicants(1), names)))
    answer = invoke(mms, big, CSV)
    assert answer.status_code == 413


def test_applicant_values_never_reach_the_logs(mms, names):
    rows = applicants(2)
    rows[0]["annual_income"] = 7_654_321
    rows[1]["age"] = 87.123
    invoke(mms, json.dumps({"applicants": rows}).encode())
    rows[1]["age"] = 187.123  # out of range: the error path must not log it either
    invoke(mms, json.dumps({"applicants": rows}).encode())
    invoke(mms, csv_body(rows, names), CSV)
    logs = mms.log_text() + "".join(p.read_text(errors="replace") for p in mms.workdir.glob("logs/*") if p.is_file())
    for planted in ("7654321", "87.123", "187.123"):
        assert planted not in logs


def in_process_reasons(artifact, rows, names, cards, limit):
    """What the server should say: the same Explainer in this process, per applicant {card: [(code, contribution)]}."""
    from handler.model.reasons import Explainer

    explainer = Explainer(artifact.estimator, artifact.metadata, artifact.applicant_columns, artifact.card_columns)
    catalog = artifact.bundled_catalog
    features = np.array([[float(row[name]) for name in names] for row in rows])
    positions = np.array([catalog.index[card] for card in cards])
    reasons = explainer.explain(features, catalog.features, positions, limit)
    return [
        {
            card: [(reasons.codes[g].code, value) for g, value in zip(index, values, strict=True) if g >= 0]
            for card, index, values in zip(
                cards, reasons.index[a].tolist(), reasons.contributions[a].tolist(), strict=True
            )
        }
        for a in range(len(rows))
    ]


def assert_reasons(results, expected, limit, top_k):
    codes = {entry["code"] for entry in expected_codes()}
    for result, wanted in zip(results, expected, strict=True):
        assert len(result["odds"]) == top_k
        for entry in result["odds"]:
            reasons = entry["reasons"]
            assert len(reasons) <= limit
            assert [list(reason) for reason in reasons] == [["code", "feature", "text", "contribution"]] * len(reasons)
            contributions = [reason["contribution"] for reason in reasons]
            assert contributions == sorted(contributions) and all(value < 0 for value in contributions)
            assert {reason["code"] for reason in reasons} <= codes
            got = [(reason["code"], reason["contribution"]) for reason in reasons]
            assert got == wanted[entry["card_id"]]  # exactly what the in-process engine says


def expected_codes():
    from training.reason_codes import DEFAULT_REASON_CODES

    return DEFAULT_REASON_CODES.values()


def test_reasons_in_a_json_body_with_top_k_and_a_card_subset(mms, artifact, names):
    cards = list(artifact.bundled_catalog.active_ids[3:12])
    rows = applicants(3)
    body = {"applicants": rows, "cards": cards, "top_k": 4, "reasons": 4}
    answer = invoke(mms, json.dumps(body).encode())
    assert answer.status_code == 200, answer.text
    catalog_order = [card for card in artifact.bundled_catalog.card_ids if card in cards]
    expected = in_process_reasons(artifact, rows, names, catalog_order, 4)
    assert_reasons(answer.json()["results"], expected, 4, 4)
    plain = invoke(mms, json.dumps({**body, "reasons": None}).encode())
    assert '"reasons"' not in plain.text
    assert (
        plain.json()["results"][0]["odds"][0]["approval_odds"]
        == answer.json()["results"][0]["odds"][0]["approval_odds"]
    )


@pytest.mark.parametrize(("content_type", "header"), [(JSONL, False), (CSV, True)])
def test_reasons_from_the_custom_attribute_for_json_lines_and_csv_input(mms, artifact, names, content_type, header):
    rows = applicants(4)
    cards = list(artifact.bundled_catalog.active_ids[:6])
    body = "\n".join(json.dumps(row) for row in rows).encode() if content_type == JSONL else csv_body(rows, names, True)
    attributes = f"reasons=2; top_k=3; cards={','.join(cards)}"
    answer = invoke(mms, body, content_type, JSONL, **{ATTRIBUTES: attributes})
    assert answer.status_code == 200, answer.text
    results = [json.loads(line) for line in answer.text.split("\n")]
    assert [result["applicant_id"] for result in results] == [row["applicant_id"] for row in rows]
    assert_reasons(results, in_process_reasons(artifact, rows, names, cards, 2), 2, 3)


def test_reasons_are_refused_with_csv_output_saying_which_types_carry_them(mms, names):
    rows = applicants(1)
    error = error_of(invoke(mms, csv_body(rows, names), CSV, CSV, **{ATTRIBUTES: "reasons=3"}), 406, "not_acceptable")
    assert "application/json and application/jsonlines" in error["message"]
    body = json.dumps({"applicants": rows, "reasons": 3}).encode()
    error_of(invoke(mms, body, JSON, CSV), 406, "not_acceptable")


@pytest.mark.parametrize("value", [0, 9, "3", 2.5])
def test_a_bad_number_of_reasons_is_400_naming_the_field(mms, value):
    body = json.dumps({"applicants": applicants(1), "reasons": value}).encode()
    error = error_of(invoke(mms, body), 400, "invalid_value")
    assert error["details"][0]["field"] == "reasons"
    if value == "3":
        return  # reasons=3 in the header is the number 3, not a string
    attribute = error_of(
        invoke(mms, json.dumps({"applicants": applicants(1)}).encode(), **{ATTRIBUTES: f"reasons={value}"}),
        400,
        "invalid_value",
    )
    assert attribute["details"][0]["field"] == f"{ATTRIBUTES} reasons"
