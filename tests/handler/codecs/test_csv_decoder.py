"""text/csv request bodies: with or without a header, validated like JSON."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.codecs.csv_decoder import decode_csv
from handler.model.features import read_number
from handler.model.metadata import ModelMetadata
from tests.support.artifacts import metadata, metadata_dict
from tests.support.rejections import details, rejection

META = metadata()
NAMES = META.applicant_feature_names
ROW = "0,37,52000,1,0,2,48,1,6"
VALUES = [0, 37, 52_000, 1, 0, 2, 48, 1, 6]
HEADER = ",".join(NAMES)


def cells(**overrides):
    values = dict(zip(NAMES, ROW.split(","), strict=True)) | overrides
    return ",".join(values[name] for name in NAMES)


def refused(text, code, meta=META):
    return rejection(decode_csv, text, meta, code=code)


def test_headerless_rows_are_features_in_metadata_order():
    request = decode_csv(f"{ROW}\n{cells(age='40')}", META)
    assert request.features.dtype == np.float64
    assert request.features.tolist() == [VALUES, [*VALUES[:1], 40, *VALUES[2:]]]
    assert request.applicant_ids == [None, None]
    assert (request.cards, request.top_k) == (None, None)


@pytest.mark.parametrize("text", [f"{ROW}\r\n{ROW}", f"{ROW}\r\n{ROW}\r\n", f"{ROW}\n\n{ROW}\n", f"\n{ROW}\n \n{ROW}"])
def test_crlf_final_newline_and_blank_lines(text):
    assert decode_csv(text, META).features.tolist() == [VALUES, VALUES]


@pytest.mark.parametrize(
    ("spelling", "value"),
    [("1", 1), ("0", 0), ("true", 1), ("FALSE", 0), ("Yes", 1), ("no", 0), (" yes ", 1), ('"true"', 1)],
)
def test_boolean_spellings(spelling, value):
    assert decode_csv(cells(home_owner=spelling), META).features[0, NAMES.index("home_owner")] == value


@pytest.mark.parametrize(
    ("text", "value"), [("+37", 37), ("37.0", 37), (" 37 ", 37), ("3.7e1", 37), (".5e2", 50), ('"37"', 37)]
)
def test_decimal_number_spellings(text, value):
    assert decode_csv(cells(age=text), META).features[0, NAMES.index("age")] == value


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1_000", "0x10", "٣٧", "37 years", "3,7", "true"])
def test_other_number_spellings_are_invalid(text):
    quoted = f'"{text}"' if "," in text else text
    error = refused(cells(age=quoted), "invalid_value")
    assert details(error) == [(1, "age", "must be a number")]


def test_a_number_that_overflows_is_not_finite():
    error = refused(cells(annual_income="1e400"), "invalid_value")
    assert details(error) == [(1, "annual_income", "must be a finite number")]


def test_a_header_matches_columns_by_name_in_any_order_with_applicant_ids():
    names = ["applicant_id", *reversed(NAMES)]
    rows = [",".join(names), "a-1," + ",".join(reversed(ROW.split(","))), " ," + ",".join(reversed(ROW.split(",")))]
    request = decode_csv("\r\n".join(rows), META)
    assert request.applicant_ids == ["a-1", None]
    assert request.features.tolist() == [VALUES, VALUES]


def test_header_names_may_have_spaces_around_them():
    header = ", ".join(NAMES)
    assert decode_csv(f"{header}\n{ROW}", META).features.tolist() == [VALUES]


def test_rows_count_applicants_not_the_header():
    error = refused(f"{HEADER}\n{ROW}\n{cells(age='12')}", "out_of_range")
    assert details(error) == [(2, "age", "must be between 18 and 100")]


@pytest.mark.parametrize("text", [HEADER, f"{HEADER}\r\n", f"applicant_id,{HEADER}\n\n"])
def test_a_header_without_rows_is_empty(text):
    refused(text, "empty_request")


def test_unknown_header_columns_are_named():
    error = refused(f"{HEADER},agee\n{ROW},3", "unknown_field")
    assert details(error) == [(None, "agee", "is not a feature of this model")]


def test_repeated_header_columns_are_refused():
    error = refused(f"{HEADER},age\n{ROW},3", "invalid_csv")
    assert details(error) == [(None, "age", "appears more than once in the header")]


def test_a_header_missing_a_required_column_names_it():
    names = [name for name in NAMES if name != "dependents"]
    row = ",".join(value for name, value in zip(NAMES, ROW.split(","), strict=True) if name != "dependents")
    error = refused(f"{','.join(names)}\n{row}", "missing_field")
    assert details(error) == [(None, "dependents", "is a required column")]


def test_a_header_may_leave_out_optional_columns_and_cells():
    raw = metadata_dict()
    raw["applicant_features"][NAMES.index("dependents")] |= {"required": False, "default": 3}
    meta = ModelMetadata.from_dict(raw)
    names = [name for name in NAMES if name != "dependents"]
    row = ",".join(value for name, value in zip(NAMES, ROW.split(","), strict=True) if name != "dependents")
    assert decode_csv(f"{','.join(names)}\n{row}", meta).features[0, NAMES.index("dependents")] == 3
    assert decode_csv(f"{cells(dependents='')}\n{ROW}", meta).features[:, NAMES.index("dependents")].tolist() == [3, 2]


def test_an_empty_required_cell_is_missing():
    error = refused(f"{ROW}\n{cells(age='', home_owner=' ')}", "missing_field")
    assert details(error) == [(2, "age", "is required"), (2, "home_owner", "is required")]


@pytest.mark.parametrize("row", ["0,37,52000", ROW + ",7", ROW + ","])
def test_a_wrong_number_of_values_names_the_row(row):
    error = refused(f"{ROW}\n{row}", "invalid_csv")
    assert details(error) == [(2, None, f"has {len(row.split(','))} values, expected 9")]


def test_a_first_line_of_neither_names_nor_values_is_refused_without_echoing_it():
    error = refused("Jane,Doe,secret\n" + ROW, "invalid_csv")
    assert "Jane" not in error.message and "secret" not in error.message
    assert "age" in error.message  # says which columns a header may name


def test_malformed_quoting_is_invalid_csv():
    refused(f'{ROW}\n0,"37"x,1,1,0,2,48,1,6', "invalid_csv")


def test_every_rows_problems_are_collected():
    rows = [cells(age="5"), ROW, cells(home_owner="maybe"), cells(active_accounts="lots")]
    error = refused("\n".join(rows), "invalid_value")
    assert details(error) == [
        (1, "age", "must be between 18 and 100"),
        (3, "home_owner", "must be a boolean: true/false or 1/0 (CSV also yes/no)"),
        (4, "active_accounts", "must be a number"),
    ]


def test_large_bodies_decode_column_by_column():
    request = decode_csv("\n".join([cells(age=str(18 + i % 80)) for i in range(5_000)]), META)
    assert request.features[:, NAMES.index("age")].tolist() == [18 + i % 80 for i in range(5_000)]


NUMBER_TEXT = st.text(alphabet="0123456789.eE+- \t", min_size=1, max_size=12)


@given(NUMBER_TEXT)
def test_numpys_conversion_agrees_with_the_cell_rule(text):
    """The fast path lets numpy convert columns made only of these characters; it must accept exactly the cells
    the slow path's rule accepts (or fail, sending the column to the slow path), with the same value."""
    try:
        converted = float(np.array([text], dtype=np.float64)[0])
    except ValueError:
        converted = None
    expected = read_number(text)
    if converted is None:
        assert expected is None or not text.strip()
    else:
        assert expected == converted
