"""application/json and application/jsonlines request bodies, as the contract describes them."""

import json

import numpy as np
import pytest

from handler.codecs.json_decoder import decode_json, decode_jsonlines
from handler.errors import MAX_DETAILS
from handler.model.metadata import ModelMetadata
from tests.support.artifacts import applicant, metadata, metadata_dict
from tests.support.rejections import details, rejection

META = metadata()
NAMES = META.applicant_feature_names


def person(**overrides):
    values = applicant(home_owner=True, self_employed=False)
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not ...}


def body(document):
    return json.dumps(document)


def refused(text, code, decode=decode_json, meta=META):
    return rejection(decode, text, meta, code=code)


def test_one_applicant():
    request = decode_json(body({"applicant": person(applicant_id="a-1")}), META)
    assert request.applicant_ids == ["a-1"]
    assert request.features.dtype == np.float64
    assert request.features.tolist() == [[0, 35, 52_000, 1, 0, 1, 40, 1, 6]]
    assert (request.cards, request.top_k, request.refresh_catalog) == (None, None, False)


def test_many_applicants_in_input_order_with_ids_echoed():
    applicants = [person(applicant_id="x", age=20), person(age=21), person(applicant_id=7, age=22)]
    applicants.append(person(applicant_id=None, age=23))
    request = decode_json(body({"applicants": applicants}), META)
    assert request.applicant_ids == ["x", None, 7, None]
    assert request.features[:, NAMES.index("age")].tolist() == [20, 21, 22, 23]


def test_features_come_out_in_metadata_order_whatever_the_key_order():
    shuffled = dict(reversed(list(person(major_cards=3).items())))
    assert decode_json(body({"applicant": shuffled}), META).features[0, NAMES.index("major_cards")] == 3


@pytest.mark.parametrize(("flag", "value"), [(True, 1), (False, 0), (1, 1), (0, 0), (1.0, 1)])
def test_booleans_are_true_false_or_0_1(flag, value):
    request = decode_json(body({"applicant": person(home_owner=flag)}), META)
    assert request.features[0, NAMES.index("home_owner")] == value


def test_cards_and_top_k_options():
    request = decode_json(body({"applicant": person(), "cards": ["cash-plus", "travel-elite"], "top_k": 1}), META)
    assert (request.cards, request.top_k) == (("cash-plus", "travel-elite"), 1)
    assert decode_json(body({"applicant": person(), "cards": None, "top_k": None}), META).cards is None


def test_the_reasons_option():
    assert decode_json(body({"applicant": person(), "reasons": 4}), META).reasons == 4
    assert decode_json(body({"applicant": person()}), META).reasons is None


def test_reasons_is_not_an_applicant_field_in_json_lines():
    """JSON Lines bodies hold applicants only: options go in the custom attributes header."""
    refused(json.dumps(person(reasons=4)), "unknown_field", decode=decode_jsonlines)


@pytest.mark.parametrize(
    "options",
    [
        {"cards": "cash-plus"},
        {"cards": []},
        {"top_k": 0},
        {"top_k": 1.5},
        {"top_k": "2"},
        {"reasons": 0},
        {"reasons": 9},
        {"reasons": "3"},
        {"reasons": 2.5},
        {"reasons": True},
    ],
)
def test_bad_options_are_400(options):
    refused(body({"applicant": person(), **options}), "invalid_value")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{}", "empty_request"),
        ('{"applicants": []}', "empty_request"),
        ("[]", "invalid_json"),
        ("[{}]", "invalid_json"),
        ("3", "invalid_json"),
        ('"applicant"', "invalid_json"),
        ("null", "invalid_json"),
        ('{"applicants": {}}', "invalid_json"),
        ('{"applicants": "a"}', "invalid_json"),
        ('{"applicant": null}', "invalid_json"),
        ('{"applicants": [1, 2]}', "invalid_json"),
        ('{"applicant": {"age": 30', "invalid_json"),
        ("{'applicant': {}}", "invalid_json"),
    ],
)
def test_the_body_must_have_the_documented_shape(text, code):
    refused(text, code)


def test_both_applicant_keys_at_once_are_refused():
    error = refused(body({"applicant": person(), "applicants": [person()]}), "invalid_json")
    assert "not both" in error.message


def test_an_unknown_top_level_key_is_named():
    error = refused(body({"applicant": person(), "topk": 3}), "unknown_field")
    assert details(error) == [(None, "topk", "is not a request field")]


def test_a_misspelled_feature_is_never_ignored():
    misspelled = person()
    misspelled["agee"] = misspelled.pop("age")
    error = refused(body({"applicants": [person(), misspelled]}), "unknown_field")
    assert (2, "agee", "is not a feature of this model") in details(error)
    assert (2, "age", "is required") in details(error)  # both problems reported at once


@pytest.mark.parametrize("missing", [..., None])  # absent key, or null
def test_a_missing_required_feature_is_named(missing):
    error = refused(body({"applicant": person(dependents=missing)}), "missing_field")
    assert details(error) == [(1, "dependents", "is required")]


def test_out_of_range_names_the_field_and_range_but_not_the_value():
    error = refused(body({"applicant": person(age=150)}), "out_of_range")
    assert details(error) == [(1, "age", "must be between 18 and 100")]
    assert "150" not in json.dumps(error.body())


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("age", "37", "must be a number"),
        ("age", True, "must be a number"),
        ("age", [37], "must be a number"),
        ("age", {"years": 37}, "must be a number"),
        ("home_owner", "yes", "must be a boolean: true/false or 1/0 (CSV also yes/no)"),
        ("home_owner", 2, "must be a boolean: true/false or 1/0 (CSV also yes/no)"),
    ],
)
def test_wrong_types_are_invalid_values(field, value, problem):
    error = refused(body({"applicant": person(**{field: value})}), "invalid_value")
    assert details(error) == [(1, field, problem)]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400])
def test_non_finite_and_overflowing_numbers_are_refused(literal):
    text = body({"applicant": person(annual_income=0)}).replace('"annual_income": 0', f'"annual_income": {literal}')
    error = refused(text, "invalid_value")
    assert details(error) == [(1, "annual_income", "must be a finite number")]


def test_a_number_too_long_to_parse_is_invalid_json():
    text = body({"applicant": person(age=0)}).replace('"age": 0', '"age": ' + "9" * 5000)
    refused(text, "invalid_json")


@pytest.mark.parametrize(
    "text",
    [
        '{"applicant": {"age": 30, "age": 40}}',
        '{"applicant": {}, "applicant": {}}',
        '{"applicants": [{"x": {"a": 1, "a": 1}}]}',
    ],
)
def test_repeated_keys_are_refused(text):
    error = refused(text, "invalid_json")
    assert "repeats the key" in error.message


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_a_400_not_a_crash(depth):
    refused('{"applicant": ' + "[" * depth + "]" * depth + "}", "invalid_json")
    refused("[" * depth, "invalid_json")


@pytest.mark.parametrize("value", [True, 1.5, [1], {"a": 1}, 2**63])
def test_applicant_id_is_a_string_or_an_integer(value):
    error = refused(body({"applicant": person(applicant_id=value)}), "invalid_value")
    assert details(error) == [(1, "applicant_id", "must be a string or an integer")]


def test_an_applicant_id_with_a_lone_surrogate_escape_is_refused_not_a_500_later():
    text = body({"applicants": [person(applicant_id="ok"), person(applicant_id="x")]}).replace('"x"', '"\\ud800"')
    error = refused(text, "invalid_value")
    assert details(error) == [(2, "applicant_id", "must be valid Unicode text (no lone surrogate escapes)")]


def test_every_rows_problems_are_collected_and_capped_in_the_body():
    applicants = [person(age=5 + i % 2 * 200) for i in range(30)]
    error = refused(body({"applicants": applicants}), "out_of_range")
    assert [d.row for d in error.details] == list(range(1, 31))
    assert len(error.body()["error"]["details"]) == MAX_DETAILS
    assert error.body()["error"]["more_details"] == 10


def test_optional_features_take_their_default():
    raw = metadata_dict()
    raw["applicant_features"][NAMES.index("dependents")] |= {"required": False, "default": 0}
    meta = ModelMetadata.from_dict(raw)
    request = decode_json(body({"applicants": [person(dependents=...), person(dependents=None), person()]}), meta)
    assert request.features[:, NAMES.index("dependents")].tolist() == [0, 0, 1]


def test_json_lines_one_applicant_per_line_crlf_and_blank_lines_accepted():
    lines = [json.dumps(person(applicant_id=f"a-{i}", age=30 + i)) for i in range(3)]
    request = decode_jsonlines("\r\n".join([lines[0], "", lines[1], "  ", lines[2]]) + "\r\n", META)
    assert request.applicant_ids == ["a-0", "a-1", "a-2"]
    assert request.features[:, NAMES.index("age")].tolist() == [30, 31, 32]


def test_json_lines_split_only_at_newlines():
    # U+2028 is a line break for str.splitlines() but ordinary text inside a JSON string.
    line = json.dumps(person(applicant_id="a\u2028b"), ensure_ascii=False)
    assert decode_jsonlines(line, META).applicant_ids == ["a\u2028b"]


def test_json_lines_report_each_bad_line_by_applicant_position():
    lines = [json.dumps(person()), "{not json", json.dumps(person()), "[1]", json.dumps(person(age=1))]
    error = refused("\n".join(lines), "invalid_json", decode=decode_jsonlines)
    assert [d.row for d in error.details] == [2]  # lines that do not parse stop before field checks
    error = refused("\n".join(lines[:2] + lines[2:3]).replace("{not json", "[1]"), "invalid_json", decode_jsonlines)
    assert details(error) == [(2, None, "must be a JSON object of applicant fields")]


def test_json_lines_field_rules_are_the_json_rules():
    lines = [json.dumps(person()), json.dumps(person(age=1)), json.dumps({**person(), "extra": 1})]
    error = refused("\n".join(lines), "unknown_field", decode=decode_jsonlines)
    assert details(error) == [(2, "age", "must be between 18 and 100"), (3, "extra", "is not a feature of this model")]


@pytest.mark.parametrize("text", ["\n\n", " \r\n "])
def test_json_lines_without_applicants_are_empty(text):
    refused(text, "empty_request", decode=decode_jsonlines)
