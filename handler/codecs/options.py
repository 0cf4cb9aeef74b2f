"""Request options — which cards, how many per applicant, reason codes, refresh the catalogue — from the body or a
header.

JSON bodies carry `cards`, `top_k` and `reasons`; callers who cannot change the body (CSV, JSON Lines, batch transform)
put them in X-Amzn-SageMaker-Custom-Attributes. Both go through the same checks; the body wins when both say.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from config.parsing import is_whole_in, parse_boolean
from handler.errors import Detail, RequestError, bad_request
from handler.model.request import ScoringRequest

ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
CARDS, TOP_K, REASONS, REFRESH = "cards", "top_k", "reasons", "refresh-card-variables"
MAX_REASONS = 8  # Regulation B practice is at most four principal reasons; eight leaves room
_DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits always fit a 64-bit integer
MAX_TOP_K = 2**63 - 1  # so top_k survives any JSON encoder; larger than the catalogue already means "all"


@dataclass(frozen=True)
class RequestOptions:
    cards: tuple[str, ...] | None = None  # None: the default selection
    top_k: int | None = None  # None: every selected card
    refresh_catalog: bool = False
    reasons: int | None = None  # None: no reason codes


def cards_option(value: Any, where: str = CARDS) -> tuple[str, ...] | None:
    """A non-empty list of distinct card id strings (null: not given). Whether they exist is the catalogue's call."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(card, str) and card for card in value):
        raise invalid_option(where, "must be a non-empty list of non-empty card id strings")
    repeated = sorted({card for card in value if value.count(card) > 1})
    if repeated:
        raise invalid_option(where, f"lists card id(s) {', '.join(map(repr, repeated))} more than once")
    return tuple(value)


def top_k_option(value: Any, where: str = TOP_K) -> int | None:
    """A positive integer (null: not given); booleans, fractions and strings are refused, not coerced."""
    return None if value is None else _positive_int(value, where)


def reasons_option(value: Any, where: str = REASONS) -> int | None:
    """An integer 1..MAX_REASONS (null: not given); booleans, fractions and strings are refused, not coerced."""
    if value is None:
        return None
    if not is_whole_in(value, 1, MAX_REASONS):
        raise invalid_option(where, f"must be an integer from 1 to {MAX_REASONS}")
    return value


def parse_custom_attributes(header: str | None) -> RequestOptions:
    """`top_k=3; cards=a,b; reasons=4; refresh-card-variables=true` → options.

    Keys we do not know are other people's tags."""
    given: dict[str, str] = {}
    for pair in (header or "").split(";"):
        key, _, value = pair.partition("=")
        key = key.strip().lower()
        if key not in (CARDS, TOP_K, REASONS, REFRESH):
            continue
        if key in given:
            raise invalid_option(_attribute(key), "is given more than once")
        given[key] = value.strip()
    cards = given.get(CARDS)
    top_k = given.get(TOP_K)
    reasons = given.get(REASONS)
    return RequestOptions(
        cards=None if cards is None else cards_option([card.strip() for card in cards.split(",")], _attribute(CARDS)),
        top_k=None if top_k is None else _attribute_top_k(top_k),
        refresh_catalog=REFRESH in given and _attribute_flag(given[REFRESH]),
        reasons=None if reasons is None else reasons_option(_attribute_int(reasons), _attribute(REASONS)),
    )


def apply_options(request: ScoringRequest, attributes: RequestOptions) -> ScoringRequest:
    """The request with the header's options filled in where the body gave none."""
    return dataclasses.replace(
        request,
        cards=request.cards if request.cards is not None else attributes.cards,
        top_k=request.top_k if request.top_k is not None else attributes.top_k,
        refresh_catalog=request.refresh_catalog or attributes.refresh_catalog,
        reasons=request.reasons if request.reasons is not None else attributes.reasons,
    )


def invalid_option(where: str, problem: str) -> RequestError:
    return bad_request("invalid_value", f"{where} {problem}", [Detail(problem, field=where)])


def _attribute(key: str) -> str:
    return f"{ATTRIBUTES_HEADER} {key}"


def _attribute_top_k(text: str) -> int:
    return _positive_int(_attribute_int(text), _attribute(TOP_K))


def _attribute_int(text: str) -> int | str:
    """Decimal digits as an int; anything else stays text, for the option's check to refuse."""
    return int(text) if _DIGITS.fullmatch(text) else text


def _positive_int(value: Any, where: str) -> int:
    if not is_whole_in(value, 1, MAX_TOP_K):
        raise invalid_option(where, "must be a positive integer")
    return value


def _attribute_flag(text: str) -> bool:
    flag = parse_boolean(text)
    if flag is None:
        raise invalid_option(_attribute(REFRESH), "must be true or false")
    return flag
