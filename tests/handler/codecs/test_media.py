"""Content-Type and Accept are parsed as HTTP headers, never compared as whole strings."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.codecs.media import (
    CSV,
    JSON,
    JSONLINES,
    MEDIA_TYPES,
    negotiate_accept,
    parse_content_type,
    split_media_type,
)
from handler.errors import RequestError
from tests.support.rejections import rejection


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("application/json", JSON),
        ("text/csv", CSV),
        ("application/jsonlines", JSONLINES),
        ("text/csv; charset=utf-8", CSV),
        ('TEXT/CSV; Charset="UTF-8"', CSV),
        ("application/jsonlines;charset=utf8", JSONLINES),
        ("text/csv; header=present", CSV),
        ("  application/json ; ", JSON),
    ],
)
def test_content_type_names_a_supported_media_type(header, expected):
    assert parse_content_type(header) == expected


@pytest.mark.parametrize(
    "header",
    ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "csv", "text/csv-schema"],
)
def test_unknown_content_type_is_415(header):
    rejection(parse_content_type, header, status=415, code="unsupported_media_type")


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ISO-8859-1", ""])
def test_a_declared_charset_other_than_utf8_is_415(charset):
    rejection(parse_content_type, f"text/csv; charset={charset}", status=415, code="unsupported_media_type")


def test_split_media_type_lowercases_names_and_unquotes_values():
    assert split_media_type('Text/CSV; Charset="utf-8"; q=0.5') == ("text/csv", {"charset": "utf-8", "q": "0.5"})


@pytest.mark.parametrize("header", [None, "", "*/*", "  */*  ", "*/*; q=0.8"])
@pytest.mark.parametrize("default", [JSON, CSV, JSONLINES])
def test_no_preference_gives_the_default(header, default):
    assert negotiate_accept(header, default) == default


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        ("text/csv", JSON, CSV),
        ("application/jsonlines", JSON, JSONLINES),
        ("application/json", CSV, JSON),
        ("text/csv, application/json", JSON, CSV),  # equal q: the first listed
        ("application/json, text/csv", CSV, JSON),
        ("application/json;q=0.5, text/csv;q=0.9", JSON, CSV),
        ("text/*", JSON, CSV),
        ("application/*", CSV, JSON),
        ("application/*, application/jsonlines", CSV, JSONLINES),  # a named type beats a wildcard at equal q
        ("text/csv;q=0, */*", CSV, JSON),  # q=0 excludes even the default
        ("*/*;q=0.1, application/json;q=0", JSON, CSV),
        ("text/csv, */*;q=0.1", JSON, CSV),
        ("application/jsonlines; charset=utf-8", JSON, JSONLINES),
        ("image/png, text/csv;q=0.2", JSON, CSV),
        ("TEXT/CSV", JSON, CSV),
        ("application/json;q=bad, text/csv", JSON, CSV),  # a malformed entry is skipped, not fatal
    ],
)
def test_accept_lists_and_q_values(header, default, expected):
    assert negotiate_accept(header, default) == expected


@pytest.mark.parametrize(
    "header", ["image/png", "text/csv;q=0", "text/html, application/xml;q=0.9", "*/*;q=0", "application/json;q=2"]
)
def test_nothing_acceptable_is_406(header):
    error = rejection(negotiate_accept, header, JSON, status=406, code="not_acceptable")
    assert "text/csv" in error.message  # says what can be produced


HEADER_TEXT = st.text(max_size=40) | st.lists(
    st.sampled_from(["text/csv", "application/json", "*/*", "text/*", ";", ",", "q=", "0.5", "charset=", "utf-8", " "])
).map("".join)


@settings(max_examples=300, deadline=None)
@given(HEADER_TEXT)
def test_any_header_gives_a_media_type_or_a_4xx(header):
    for parse in (parse_content_type, lambda value: negotiate_accept(value, JSON)):
        try:
            assert parse(header) in MEDIA_TYPES
        except RequestError as error:
            assert error.status in (406, 415)
