"""Response bodies: JSON sorted and cut to top_k; CSV and JSON Lines one line per applicant, no trailing newline."""

import dataclasses
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from handler.codecs import encoders
from handler.codecs.encoders import (
    SMALL_RESULTS,
    _array_results,
    _small_results,
    encode_error,
    encode_prediction,
    odds_text,
)
from handler.codecs.media import CSV, JSON, JSONLINES
from handler.errors import INTERNAL_ERROR, Detail, RequestError
from handler.model.request import Prediction, ReasonCode, Reasons
from tests.support.rejections import rejection

CARDS = ("cash-plus", "travel-elite", "secured-starter")
ODDS = np.array([[0.2, 0.9, 0.2], [1.0, 0.0, 0.1234564]])


def prediction(odds=ODDS, ids=("a-1", None), cards=CARDS, top_k=None):
    return Prediction(list(ids), tuple(cards), np.asarray(odds, dtype=float), "model-7", "cat-3", top_k)


def test_json_results_in_input_order_with_odds_sorted_highest_first():
    document = json.loads(encode_prediction(prediction(), JSON))
    assert document == {
        "model_version": "model-7",
        "catalog_version": "cat-3",
        "results": [
            {
                "applicant_id": "a-1",
                "odds": [
                    {"card_id": "travel-elite", "approval_odds": 0.9},
                    {"card_id": "cash-plus", "approval_odds": 0.2},  # ties keep catalogue order
                    {"card_id": "secured-starter", "approval_odds": 0.2},
                ],
            },
            {
                "applicant_id": None,
                "odds": [
                    {"card_id": "cash-plus", "approval_odds": 1.0},
                    {"card_id": "secured-starter", "approval_odds": 0.1234564},
                    {"card_id": "travel-elite", "approval_odds": 0.0},
                ],
            },
        ],
    }


def test_odds_have_15_decimals_in_json_and_6_in_csv():
    assert b'"approval_odds":0.900000000000000}' in encode_prediction(prediction(), JSON)
    assert b'"approval_odds":0.900000000000000}' in encode_prediction(prediction(), JSONLINES)
    assert encode_prediction(prediction(), CSV).split(b"\n")[0] == b"0.200000,0.900000,0.200000"


@pytest.mark.parametrize(("top_k", "kept"), [(1, 1), (2, 2), (3, 3), (50, 3)])
def test_top_k_cuts_the_sorted_odds(top_k, kept):
    results = json.loads(encode_prediction(prediction(top_k=top_k), JSON))["results"]
    assert [len(result["odds"]) for result in results] == [kept, kept]
    assert results[0]["odds"][0]["card_id"] == "travel-elite"


def test_integer_ids_are_echoed_as_integers():
    results = json.loads(encode_prediction(prediction(ids=(7, 2**63 - 1)), JSON))["results"]
    assert [result["applicant_id"] for result in results] == [7, 2**63 - 1]


def test_csv_is_one_line_per_applicant_in_catalogue_order_without_header_or_trailing_newline():
    assert encode_prediction(prediction(), CSV) == b"0.200000,0.900000,0.200000\n1.000000,0.000000,0.123456"


def test_csv_ignores_top_k_so_every_line_has_the_same_columns():
    assert encode_prediction(prediction(top_k=1), CSV) == encode_prediction(prediction(), CSV)


def test_json_lines_hold_one_result_object_per_applicant():
    text = encode_prediction(prediction(top_k=2), JSONLINES)
    assert not text.endswith(b"\n")
    lines = [json.loads(line) for line in text.split(b"\n")]
    assert lines == json.loads(encode_prediction(prediction(top_k=2), JSON))["results"]


def test_ids_and_card_ids_are_escaped():
    awkward = ('quote " and \\ and\nnewline', "tab\there ☃")
    cards = ('card "one"', "card\ntwo", "ü")
    text = encode_prediction(prediction(ids=awkward, cards=cards), JSONLINES)
    assert text.count(b"\n") == 1
    lines = [json.loads(line) for line in text.split(b"\n")]
    assert [line["applicant_id"] for line in lines] == list(awkward)
    assert {entry["card_id"] for entry in lines[0]["odds"]} == set(cards)


def test_one_applicant_and_one_card():
    one = prediction(odds=[[0.5]], ids=("only",), cards=("cash-plus",))
    assert encode_prediction(one, CSV) == b"0.500000"
    assert (
        encode_prediction(one, JSONLINES)
        == b'{"applicant_id":"only","odds":[{"card_id":"cash-plus","approval_odds":0.500000000000000}]}'
    )


@pytest.mark.parametrize("odds", [[[np.nan, 0.5, 0.5]], [[1.5, 0.5, 0.5]], [[-0.1, 0.5, 0.5]]])
@pytest.mark.parametrize("media_type", [JSON, CSV, JSONLINES])
def test_odds_outside_0_1_are_an_internal_fault(odds, media_type):
    with pytest.raises(ValueError, match="probabilities"):
        encode_prediction(prediction(odds=odds, ids=("a",)), media_type)


def test_an_unknown_media_type_is_406():
    rejection(encode_prediction, prediction(), "text/html", status=406, code="not_acceptable")


def test_error_bodies_are_json():
    error = RequestError(400, "out_of_range", "applicant 1: age ...", [Detail("must be between 18 and 100", 1, "age")])
    assert json.loads(encode_error(error)) == {
        "error": {
            "code": "out_of_range",
            "message": "applicant 1: age ...",
            "details": [{"row": 1, "field": "age", "problem": "must be between 18 and 100"}],
        }
    }
    assert json.loads(encode_error(INTERNAL_ERROR))["error"]["code"] == "internal_error"


@pytest.mark.parametrize(
    ("odds", "decimals", "text"),
    [
        (0.0, 6, b"0.000000"),
        (1.0, 6, b"1.000000"),
        (0.5, 6, b"0.500000"),
        (0.9999996, 6, b"1.000000"),
        (0.0000004, 6, b"0.000000"),
        (0.123456789, 15, b"0.123456789000000"),
        (1.0, 15, b"1.000000000000000"),
        (1e-15, 15, b"0.000000000000001"),
    ],
)
def test_odds_text(odds, decimals, text):
    assert odds_text(np.array([odds]), decimals).tobytes() == text


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 1), st.sampled_from([3, 6, 15]))
def test_odds_text_rounds_to_the_nearest_last_digit(odds, decimals):
    text = odds_text(np.array([odds]), decimals).tobytes().decode()
    assert len(text) == decimals + 2 and text[1] == "."
    assert abs(float(text) - odds) <= 0.5 * 10**-decimals + 2e-16


def test_odds_text_keeps_the_matrix_shape():
    assert odds_text(np.full((4, 3), 0.25), 6).shape == (4, 3, 8)


MATRICES = st.tuples(st.integers(1, 30), st.integers(1, 8)).flatmap(
    lambda shape: hnp.arrays(np.float64, shape, elements=st.floats(0, 1))
)


@settings(max_examples=200, deadline=None)
@given(
    MATRICES,
    st.lists(st.text(max_size=6) | st.none() | st.integers(-(2**63) + 1, 2**63 - 1), min_size=30),
    st.none() | st.integers(1, 10),
)
def test_every_format_has_one_result_per_applicant(odds, ids, top_k):
    n, cards = odds.shape
    result = prediction(odds=odds, ids=ids[:n], cards=[f"c{i}" for i in range(cards)], top_k=top_k)
    csv_lines = encode_prediction(result, CSV).split(b"\n")
    assert len(csv_lines) == n and all(line.count(b",") == cards - 1 for line in csv_lines)
    np.testing.assert_allclose(np.array([line.split(b",") for line in csv_lines], dtype=float), odds, atol=5e-7)
    jsonl_lines = encode_prediction(result, JSONLINES).split(b"\n")
    assert len(jsonl_lines) == n
    results = json.loads(encode_prediction(result, JSON))["results"]
    assert [json.loads(line) for line in jsonl_lines] == results
    kept = cards if top_k is None else min(top_k, cards)
    for row, entry in enumerate(results):
        assert entry["applicant_id"] == ids[row]
        values = [odd["approval_odds"] for odd in entry["odds"]]
        assert len(values) == kept and values == sorted(values, reverse=True)
        assert values[0] == pytest.approx(odds[row].max(), abs=5e-7)


def test_an_error_naming_a_field_with_a_lone_surrogate_is_still_json():
    error = RequestError(400, "unknown_field", "applicant 1, field '\\ud800x': ...", [Detail("unknown", 1, "\ud800x")])
    assert json.loads(encode_error(error))["error"]["details"][0]["field"] == "\ud800x"


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 12), st.integers(1, 40)),
        elements=st.sampled_from([0.0, 1.0, 0.5, 5e-16, 1 - 1e-16]) | st.floats(0, 1),
    ),
    st.none() | st.integers(1, 50),
    st.sampled_from([b",", b"\n"]),
)
def test_small_and_large_predictions_are_written_byte_for_byte_alike(odds, top_k, separator):
    """Small predictions take a Python writer, large ones the array writer: the same bytes either way."""
    n, cards = odds.shape
    result = prediction(odds=odds, ids=[f"a{i}" for i in range(n)], cards=[f"c{i}" for i in range(cards)], top_k=top_k)
    head, tail = b"{[", b"]}"
    assert _small_results(result, odds, separator, head, tail) == _array_results(result, odds, separator, head, tail)


def test_one_applicant_against_a_catalogue_takes_the_small_writer(monkeypatch):
    called = []
    monkeypatch.setattr(encoders, "_array_results", lambda *args: called.append(args) or b"")

    def one_applicant(cards):
        return prediction(odds=np.full((1, cards), 0.5), ids=["a"], cards=[f"c{i}" for i in range(cards)])

    encode_prediction(one_applicant(SMALL_RESULTS), JSON)
    assert not called
    encode_prediction(one_applicant(SMALL_RESULTS + 1), JSON)
    assert len(called) == 1


def midpoints(decimals: int) -> st.SearchStrategy[float]:
    """Floats next to a half of the last decimal, where rounding the product first goes wrong."""
    return st.builds(
        lambda k, steps: float(
            np.clip(((k + 0.5) / 10**decimals) + steps * 2.0**-53 * ((k + 0.5) / 10**decimals), 0, 1)
        ),
        st.integers(0, 10**decimals - 1),
        st.integers(-3, 3),
    )


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.floats(0, 1), midpoints(15)), st.sampled_from([3, 6, 15]))
def test_odds_text_is_pythons_correctly_rounded_formatting(odds, decimals):
    assert odds_text(np.array([odds]), decimals).tobytes().decode() == f"{odds:.{decimals}f}"


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 300), elements=st.one_of(st.floats(0, 1), midpoints(15))))
def test_both_json_writers_print_odds_as_f_15f(values):
    odds = values.reshape(1, -1)
    cards = tuple(f"c{i}" for i in range(odds.shape[1]))
    one = Prediction(["a"], cards, odds, "m", "c")
    for writer in (_small_results, _array_results):
        text = writer(one, odds, b"\n", b"", b"")
        printed = [entry["approval_odds"] for entry in json.loads(text)["odds"]]
        written = [part.split(b"}")[0].decode() for part in text.split(b'"approval_odds":')[1:]]
        assert sorted(written) == sorted(f"{value:.15f}" for value in values.tolist())
        assert len(printed) == len(values)


def test_a_million_random_odds_are_all_correctly_rounded():
    """rint(x * 1e15) got 3.6 % of these wrong."""
    odds = np.random.default_rng(5).random(1_000_000)
    text = odds_text(odds, 15).view("S17").ravel().tolist()
    assert text == [b"%.15f" % value for value in odds.tolist()]


REASON_CODES = (
    ReasonCode("INCOME", "annual_income", "Income too low"),
    ReasonCode("HISTORY", "derogatory_reports,major_cards", 'Credit "history"'),
)


def explained(top_k=None):
    index = np.array([[[1, 0], [0, -1], [-1, -1]], [[0, -1], [-1, -1], [1, 0]]])
    contributions = np.array([[[-0.5, -0.25], [-0.125, 0.5], [0.0, 0.5]], [[-2.0, 1.0], [0.0, 0.0], [-1.5, -0.75]]])
    return dataclasses.replace(prediction(top_k=top_k), reasons=Reasons(REASON_CODES, index, contributions))


def test_each_card_entry_lists_its_reasons_most_negative_first():
    document = json.loads(encode_prediction(explained(), JSON))
    first = document["results"][0]["odds"]
    assert [entry["card_id"] for entry in first] == ["travel-elite", "cash-plus", "secured-starter"]
    assert first[1] == {
        "card_id": "cash-plus",
        "approval_odds": 0.2,
        "reasons": [
            {
                "code": "HISTORY",
                "feature": "derogatory_reports,major_cards",
                "text": 'Credit "history"',
                "contribution": -0.5,
            },
            {"code": "INCOME", "feature": "annual_income", "text": "Income too low", "contribution": -0.25},
        ],
    }
    assert first[0]["reasons"] == [
        {"code": "INCOME", "feature": "annual_income", "text": "Income too low", "contribution": -0.125}
    ]
    assert first[2]["reasons"] == []  # nothing against the applicant for this card
    assert [list(entry) for entry in first] == [["card_id", "approval_odds", "reasons"]] * 3


def test_reasons_follow_top_k_and_json_lines():
    lines = [json.loads(line) for line in encode_prediction(explained(top_k=1), JSONLINES).split(b"\n")]
    assert [[entry["card_id"] for entry in line["odds"]] for line in lines] == [["travel-elite"], ["cash-plus"]]
    assert [entry["code"] for entry in lines[1]["odds"][0]["reasons"]] == ["INCOME"]
    whole = json.loads(encode_prediction(explained(top_k=1), JSON))["results"]
    assert whole == lines


@pytest.mark.parametrize("media_type", [JSON, JSONLINES])
def test_an_explained_response_is_the_plain_one_plus_reasons(media_type):
    explained_body = encode_prediction(explained(), media_type)
    assert re.sub(rb',"reasons":\[(\{[^{}]*\},?)*\]', b"", explained_body) == encode_prediction(
        prediction(), media_type
    )


def test_csv_refuses_reasons_saying_which_types_carry_them():
    error = rejection(encode_prediction, explained(), CSV, status=406, code="not_acceptable")
    assert "application/json and application/jsonlines" in error.message
