"""Media types: which one a request body is in (Content-Type) and which one the caller wants back (Accept).

Both headers are parsed, not compared as strings: `text/csv; charset=utf-8`, any letter case and Accept lists
with q-values and wildcards are all valid HTTP, and SageMaker passes them through as the caller sent them.
"""

from __future__ import annotations

import functools
import re

# config.settings states the media types; the codecs take them from here, with the parsing of the headers.
from config.settings import CSV, JSON, JSONLINES, MEDIA_TYPES  # noqa: F401
from handler.errors import RequestError

UTF8_NAMES = frozenset({"utf-8", "utf8"})
# RFC 9110 qvalue: 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")


def split_media_type(value: str) -> tuple[str, dict[str, str]]:
    """`Type/Sub; Key="v"` → ("type/sub", {"key": "v"}): type and parameter names lower-cased, quotes removed."""
    kind, *parameters = value.split(";")
    parsed: dict[str, str] = {}
    for parameter in parameters:
        key, _, raw = parameter.partition("=")
        if key.strip():
            parsed[key.strip().lower()] = raw.strip().strip('"')
    return kind.strip().lower(), parsed


def parse_content_type(header: str | None) -> str:
    """The request body's media type; no header means JSON. Anything we cannot read as UTF-8 text → 415."""
    if header is None or not header.strip():
        return JSON
    kind, parameters = split_media_type(header)
    if kind not in MEDIA_TYPES:
        raise unsupported_media_type(f"Content-Type {kind!r} is not supported; send one of {', '.join(MEDIA_TYPES)}")
    charset = parameters.get("charset")
    if charset is not None and charset.lower() not in UTF8_NAMES:
        raise unsupported_media_type(f"charset {charset!r} is not supported; send UTF-8 text")
    return kind


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct headers: parse each once
def negotiate_accept(header: str | None, default: str) -> str:
    """The response media type for an Accept header: the supported type with the highest q-value.

    A type's q-value comes from the most specific range that matches it (text/csv beats text/* beats */*).
    Ties go to the range listed first, then to `default` (so `*/*` or no header yields the default).
    """
    if header is None or not header.strip():
        return default
    ranges = _accept_ranges(header)
    candidates = (default, *(kind for kind in MEDIA_TYPES if kind != default))
    best, best_key = None, (0.0, 0, 0)
    for kind in candidates:
        key = _preference(kind, ranges)
        if key[0] > 0 and key > best_key:
            best, best_key = kind, key
    if best is None:
        message = f"none of the Accept header's types can be produced; ask for {', '.join(MEDIA_TYPES)}"
        raise RequestError(406, "not_acceptable", message)
    return best


def unsupported_media_type(message: str) -> RequestError:
    return RequestError(415, "unsupported_media_type", message)


def _accept_ranges(header: str) -> list[tuple[str, float]]:
    """(media range, q) for each well-formed entry of an Accept header, in the order given."""
    ranges = []
    for entry in header.split(","):
        kind, parameters = split_media_type(entry)
        if kind.count("/") != 1:
            continue  # not a media range: skip it rather than refuse the whole header
        q = parameters.get("q", "1")
        if not _QVALUE.fullmatch(q):
            continue
        ranges.append((kind, float(q)))
    return ranges


def _preference(kind: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int]:
    """(q, specificity, -position) of the most specific range matching `kind`; (0, 0, 0) when none does."""
    family = kind.split("/")[0] + "/*"
    best = (0.0, -1, 0)
    for position, (media_range, q) in enumerate(ranges):
        specificity = {kind: 2, family: 1, "*/*": 0}.get(media_range, -1)
        if specificity > best[1]:
            best = (q, specificity, -position)
    return best if best[1] >= 0 else (0.0, 0, 0)
