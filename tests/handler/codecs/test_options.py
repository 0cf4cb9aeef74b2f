"""cards / top_k / reasons from a JSON body or from X-Amzn-SageMaker-Custom-Attributes: same rules, body first."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.codecs.options import (
    RequestOptions,
    apply_options,
    cards_option,
    parse_custom_attributes,
    reasons_option,
    top_k_option,
)
from handler.errors import RequestError
from handler.model.request import ScoringRequest
from tests.support.rejections import rejection


def refused(call, *args):
    return rejection(call, *args, code="invalid_value")


def test_cards_is_a_list_of_distinct_ids_or_absent():
    assert cards_option(None) is None
    assert cards_option(["travel-elite", "cash-plus"]) == ("travel-elite", "cash-plus")


@pytest.mark.parametrize("value", ["cash-plus", [], [1], [""], ["cash-plus", None], {"cash-plus": 1}, True])
def test_cards_of_the_wrong_shape_are_refused(value):
    error = refused(cards_option, value)
    assert error.details[0].field == "cards"


def test_repeated_card_ids_are_refused_by_name():
    error = refused(cards_option, ["cash-plus", "travel-elite", "cash-plus"])
    assert "'cash-plus'" in error.message


@pytest.mark.parametrize("value", [1, 3, 10**6])
def test_top_k_is_a_positive_integer(value):
    assert top_k_option(value) == value


@pytest.mark.parametrize("value", [0, -1, 1.5, 2.0, "3", True, [3], 2**63])
def test_top_k_refuses_anything_else(value):
    assert refused(top_k_option, value).details[0].field == "top_k"


def test_absent_attributes_change_nothing():
    assert parse_custom_attributes(None) == RequestOptions()
    assert parse_custom_attributes("") == RequestOptions()


def test_attributes_as_sagemaker_passes_them():
    options = parse_custom_attributes("top_k=3; cards=cash-plus, travel-elite; refresh-card-variables=true")
    assert options == RequestOptions(cards=("cash-plus", "travel-elite"), top_k=3, refresh_catalog=True)


def test_unknown_attribute_keys_are_someone_elses_tags():
    options = parse_custom_attributes("trace-id=abc; flag; top_k=2; cost-center=7=8")
    assert options == RequestOptions(top_k=2)


def test_attribute_keys_ignore_case_and_spaces():
    assert parse_custom_attributes(" TOP_K = 4 ;Refresh-Card-Variables=No") == RequestOptions(top_k=4)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("top_k=0", "top_k"),
        ("top_k=-2", "top_k"),
        ("top_k=two", "top_k"),
        ("top_k=1.5", "top_k"),
        ("top_k=", "top_k"),
        ("top_k", "top_k"),
        ("top_k=" + "9" * 40, "top_k"),
        ("cards=", "cards"),
        ("cards=cash-plus,,travel-elite", "cards"),
        ("cards=cash-plus,cash-plus", "cards"),
        ("refresh-card-variables=maybe", "refresh-card-variables"),
        ("top_k=1; top_k=2", "top_k"),
    ],
)
def test_a_known_attribute_with_a_bad_value_is_refused(header, key):
    error = refused(parse_custom_attributes, header)
    assert error.details[0].field == f"X-Amzn-SageMaker-Custom-Attributes {key}"


def request(**options):
    return ScoringRequest(applicant_ids=["a"], features=np.zeros((1, 9)), **options)


def test_body_options_win_over_attributes():
    merged = apply_options(request(cards=("a",), top_k=1), RequestOptions(cards=("b",), top_k=5))
    assert (merged.cards, merged.top_k) == (("a",), 1)


def test_attributes_fill_what_the_body_left_out():
    merged = apply_options(request(), RequestOptions(cards=("b",), top_k=5, refresh_catalog=True))
    assert (merged.cards, merged.top_k, merged.refresh_catalog) == (("b",), 5, True)
    assert merged.applicant_ids == ["a"]


ATTRIBUTE_TEXT = st.text(max_size=60) | st.lists(
    st.sampled_from(["top_k", "cards", "refresh-card-variables", "=", ";", ",", "3", "a", " "])
).map("".join)


@settings(max_examples=300, deadline=None)
@given(ATTRIBUTE_TEXT)
def test_any_attributes_header_gives_options_or_a_400(header):
    try:
        options = parse_custom_attributes(header)
    except RequestError as error:
        assert error.status == 400
    else:
        assert options.top_k is None or options.top_k >= 1


@pytest.mark.parametrize("value", [1, 4, 8])
def test_reasons_is_an_integer_from_1_to_8(value):
    assert reasons_option(value) == value
    assert reasons_option(None) is None
    assert parse_custom_attributes(f"reasons={value}").reasons == value


@pytest.mark.parametrize("value", [0, 9, -1, "3", 2.5, 4.0, True, False, [4], {"n": 4}])
def test_other_reasons_values_are_refused_naming_the_field(value):
    error = refused(reasons_option, value)
    assert error.details[0].field == "reasons"
    assert "must be an integer from 1 to 8" in error.message


@pytest.mark.parametrize("text", ["0", "9", "abc", "2.5", "", "-1", "true"])
def test_a_bad_reasons_attribute_is_refused_naming_the_attribute(text):
    error = refused(parse_custom_attributes, f"top_k=2; reasons={text}")
    assert error.details[0].field == "X-Amzn-SageMaker-Custom-Attributes reasons"


def test_the_body_reasons_wins_over_the_attribute():
    request = ScoringRequest(applicant_ids=[None], features=np.zeros((1, 9)), reasons=2)
    assert apply_options(request, parse_custom_attributes("reasons=5")).reasons == 2
    plain = ScoringRequest(applicant_ids=[None], features=np.zeros((1, 9)))
    assert apply_options(plain, parse_custom_attributes("reasons=5; top_k=1")).reasons == 5
    assert apply_options(plain, RequestOptions()).reasons is None
