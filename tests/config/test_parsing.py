"""The shared text rules: booleans in the contract's words, whole numbers in a range, and argparse's wrapper."""

import argparse

import pytest

from config.parsing import argument, is_whole_in, parse_boolean, whole_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" TRUE ", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("maybe", None),
        ("y", None),
        ("", None),
        ("2", None),
        ("on", None),
    ],
)
def test_booleans_are_one_of_three_spellings_in_any_case(text, expected):
    assert parse_boolean(text) is expected


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("10", 10), (" 7 ", 7), ("+3", 3)])
def test_a_whole_number_in_range_is_read_as_int_reads_it(text, expected):
    assert whole_in(1, 10)(text) == expected


@pytest.mark.parametrize("text", ["0", "11", "-1", "2.0", "1e1", "ten", "", "nan", "True"])
def test_anything_else_is_refused_saying_what_was_expected(text):
    with pytest.raises(ValueError) as raised:
        whole_in(1, 10)(text)
    assert str(raised.value) == f"{text!r} is not a whole number from 1 to 10"


def test_the_range_is_inclusive_at_both_ends():
    parse = whole_in(0, 2**32 - 1)
    assert parse("0") == 0
    assert parse(str(2**32 - 1)) == 2**32 - 1
    with pytest.raises(ValueError):
        parse(str(2**32))


@pytest.mark.parametrize(("value", "expected"), [(1, True), (8, True), (0, False), (9, False)])
def test_a_json_integer_is_checked_against_the_same_range(value, expected):
    assert is_whole_in(value, 1, 8) is expected


@pytest.mark.parametrize("value", [True, 2.0, "2", None, [2]])
def test_a_json_value_that_is_not_an_integer_is_never_coerced(value):
    assert not is_whole_in(value, 0, 8)


def test_argument_turns_a_refusal_into_argparses_usage_error_with_the_reason():
    parser = argparse.ArgumentParser(prog="tool", exit_on_error=False)
    parser.add_argument("--count", type=argument(whole_in(1, 5)))
    assert parser.parse_args(["--count", "5"]).count == 5
    with pytest.raises(argparse.ArgumentError, match="'6' is not a whole number from 1 to 5"):
        parser.parse_args(["--count", "6"])
