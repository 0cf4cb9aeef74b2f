"""The checks every request format shares, on a whole table at once."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.model.features import FeatureTable, range_text, validated_features
from handler.model.metadata import FeatureSpec
from tests.support.artifacts import metadata, metadata_dict

SPECS = metadata().applicant_features  # demo features: ages 18-100, home_owner/self_employed booleans at 3 and 4
GOOD = [0, 37, 52_000, 1, 0, 2, 48, 1, 6]
AGE, HOME_OWNER = 1, 3


def table(*rows, absent=None, unreadable=None):
    return FeatureTable(np.array(rows, dtype=np.float64), absent, unreadable)


def problems_of(*rows, specs=SPECS, **masks):
    return [(p.code, p.row, p.field, p.text) for p in validated_features(specs, table(*rows, **masks))[1]]


def with_value(position, value):
    row = list(GOOD)
    row[position] = value
    return row


def test_a_valid_table_passes_unchanged():
    values, problems = validated_features(SPECS, table(GOOD, GOOD))
    assert problems == []
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [GOOD, GOOD])


@pytest.mark.parametrize("age", [18, 100, 18.0, 99.5])
def test_bounds_are_inclusive(age):
    assert problems_of(with_value(AGE, age)) == []


@pytest.mark.parametrize("age", [17.999, 100.5, -1, 1e300])
def test_out_of_range_names_field_and_range(age):
    assert problems_of(GOOD, with_value(AGE, age)) == [("out_of_range", 1, "age", "must be between 18 and 100")]


@pytest.mark.parametrize("age", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_invalid(age):
    assert problems_of(with_value(AGE, age)) == [("invalid_value", 0, "age", "must be a finite number")]


@pytest.mark.parametrize("flag", [2, -1, 0.5, math.inf])
def test_booleans_must_be_0_or_1(flag):
    assert [p[:3] for p in problems_of(with_value(HOME_OWNER, flag))] == [("invalid_value", 0, "home_owner")]


def test_absent_required_values_are_missing_and_unreadable_ones_invalid():
    absent = np.zeros((2, 9), dtype=bool)
    unreadable = np.zeros((2, 9), dtype=bool)
    absent[1, AGE] = True
    unreadable[0, HOME_OWNER] = unreadable[0, AGE] = True
    found = problems_of(with_value(AGE, -5), with_value(AGE, 500), absent=absent, unreadable=unreadable)
    # Only the mask is reported: the value behind an absent or unreadable cell is meaningless.
    assert sorted(p[:3] for p in found) == [
        ("invalid_value", 0, "age"),
        ("invalid_value", 0, "home_owner"),
        ("missing_field", 1, "age"),
    ]


def test_absent_optional_values_take_the_default():
    raw = metadata_dict()
    raw["applicant_features"][AGE] |= {"required": False, "default": 40}
    specs = type(metadata()).from_dict(raw).applicant_features
    absent = np.zeros((2, 9), dtype=bool)
    absent[0, AGE] = True
    values, problems = validated_features(specs, table(with_value(AGE, 0), GOOD, absent=absent))
    assert problems == []
    assert values[:, AGE].tolist() == [40, 37]


def test_every_row_and_column_is_checked():
    rows = [with_value(AGE, 5)] * 30 + [with_value(HOME_OWNER, 7)] * 2
    found = problems_of(*rows)
    assert len(found) == 32
    assert {p[2] for p in found} == {"age", "home_owner"}


def test_unbounded_features_accept_any_finite_number():
    specs = (FeatureSpec("balance", "number"),)
    assert problems_of([-1e300], [1e300], specs=specs) == []
    assert problems_of([math.inf], specs=specs) == [("invalid_value", 0, "balance", "must be a finite number")]


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (18, 100, "must be between 18 and 100"),
        (0.5, 2.25, "must be between 0.5 and 2.25"),
        (0, None, "must be at least 0"),
        (None, 1e7, "must be at most 10000000"),
    ],
)
def test_range_text(low, high, text):
    assert range_text(FeatureSpec("x", "number", min=low, max=high)) == text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 1.0, 0.5, -1.0, 18.0, 100.0, 101.0, 1e308, math.inf, -math.inf, math.nan])
        | st.floats(allow_nan=True, allow_infinity=True),
        min_size=len(GOOD),
        max_size=len(GOOD),
    )
)
def test_one_applicant_is_judged_as_it_would_be_among_many(row):
    """A single row is checked value by value in Python, a larger table with arrays: the verdicts agree."""
    alone = validated_features(SPECS, table(row))
    among_many = validated_features(SPECS, table(GOOD, row))
    assert [(p.field, p.code) for p in alone[1]] == [(p.field, p.code) for p in among_many[1]]
    if not alone[1]:
        assert alone[0].tolist() == [row]
