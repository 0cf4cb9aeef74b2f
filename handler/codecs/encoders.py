"""Prediction → response body, one encoder per media type; encode_error for every error body.

- application/json: {"model_version", "catalog_version", "results": [{"applicant_id", "odds": [{"card_id",
  "approval_odds"}, ...]}, ...]}, each applicant's odds sorted highest first (ties in catalogue order), cut to top_k.
- application/jsonlines: one such result object per applicant, one per line.
- text/csv: one line per applicant, one value per selected card in the Prediction's card order (catalogue order:
  NOT sorted and NOT cut to top_k, so every line has the same columns); no id column, no header.
Lines are in input order, with no trailing newline (batch transform appends one). Odds have a fixed number of
decimals: 15 in JSON (as precise as the float, ±5e-16) and 6 in CSV (the contract's minimum, keeping batch output
small; ±5e-7), each the correctly rounded decimal of the float, as Python's f"{x:.15f}" writes it.
With reason codes (handler/model/reasons.py) each JSON card entry also has "reasons": [{"code", "feature", "text",
"contribution"}, ...]; CSV has no place for them and refuses such a prediction (406).

Nothing loops over applicant x card pairs in Python: the odds matrix becomes fixed-width text through a digit
lookup table, and JSON entries are assembled as fixed-width byte blocks (NUL-padded, NULs removed at the end —
JSON text never contains a raw NUL, orjson escapes it inside strings).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from itertools import chain, repeat

import numpy as np
import orjson

from handler.codecs.media import CSV, JSON, JSONLINES
from handler.errors import RequestError
from handler.model.request import Prediction, Reasons

JSON_DECIMALS = 15
CSV_DECIMALS = 6
MAX_DECIMALS = 15  # 10**15 < 2**50: the product's rounding error stays below 2**-4 (see _scaled)
_SPLITTER = 134217729.0  # 2**27 + 1
_DIGIT_BLOCK = 1 << 15  # values per block in odds_text: 32768 x 15 digits x 8 bytes ≈ 4 MB of temporaries
# Up to this many odds (one applicant x a catalogue), plain Python beats the array path's fixed cost
# (docs/performance.md); both write the same bytes (tests/handler/codecs/test_encoders.py).
SMALL_RESULTS = 256
_SMALL_ENTRY = b"%%b%%.%df}" % JSON_DECIMALS  # a card's prefix, then its odds by Python's (correct) rounding
_EXPLAINED_ENTRY = b'%%b%%.%df,"reasons":[%%b]}' % JSON_DECIMALS  # the same with its reasons
_ZERO, _POINT, _COMMA, _NEWLINE, _CLOSE, _PAD = b"0.,\n}\x00"


def encode_prediction(prediction: Prediction, media_type: str) -> bytes:
    encoder = ENCODERS.get(media_type)
    if encoder is None:
        raise RequestError(406, "not_acceptable", f"responses cannot be written as {media_type!r}")
    return encoder(prediction)


def encode_error(error: RequestError) -> bytes:
    body = error.body()
    try:
        return orjson.dumps(body)
    except TypeError:
        # A field name echoed from the request may hold a lone surrogate (a JSON "\ud800" escape), which orjson
        # refuses; the standard encoder writes it back as the same escape.
        return json.dumps(body).encode()


def encode_csv(prediction: Prediction) -> bytes:
    if prediction.reasons is not None:
        raise RequestError(
            406,
            "not_acceptable",
            f"reason codes are returned in {JSON} and {JSONLINES} responses only, not {CSV}: ask for one of those "
            "(Accept) or leave out the reasons option",
        )
    odds = _checked(prediction.odds)
    applicants, cards = odds.shape
    if cards == 0:
        return b"\n" * (applicants - 1)
    text = odds_text(odds, CSV_DECIMALS)
    cells = np.empty((applicants, cards, text.shape[-1] + 1), dtype=np.uint8)
    cells[..., :-1] = text
    cells[..., -1] = _COMMA
    cells[:, -1, -1] = _NEWLINE
    return cells.reshape(-1)[:-1].tobytes()  # one copy; slicing the bytes afterwards would be a second


def encode_json(prediction: Prediction) -> bytes:
    head = b'{"model_version":%b,"catalog_version":%b,"results":[' % (
        orjson.dumps(prediction.model_version),
        orjson.dumps(prediction.catalog_version),
    )
    return _results(prediction, separator=b",", head=head, tail=b"]}")


def encode_jsonlines(prediction: Prediction) -> bytes:
    return _results(prediction, separator=b"\n")


ENCODERS: dict[str, Callable[[Prediction], bytes]] = {
    JSON: encode_json,
    CSV: encode_csv,
    JSONLINES: encode_jsonlines,
}


def odds_text(odds: np.ndarray, decimals: int) -> np.ndarray:
    """Odds in [0, 1] → uint8 array of shape odds.shape + (decimals + 2,) holding "d.ddd…" (rounded to nearest).

    The digits of round(odds * 10**decimals) come from one broadcast division per block of values (blocks bound
    the temporary digit array to a few MB however large the batch)."""
    scaled = _scaled(odds, decimals).reshape(-1)
    powers = 10 ** np.arange(decimals - 1, -1, -1, dtype=np.int64)
    text = np.empty((scaled.size, decimals + 2), dtype=np.uint8)
    text[:, 0] = scaled // 10**decimals
    text[:, 0] += _ZERO
    text[:, 1] = _POINT
    for start in range(0, scaled.size, _DIGIT_BLOCK):
        digits = scaled[start : start + _DIGIT_BLOCK, None] // powers
        digits %= 10
        digits += _ZERO
        text[start : start + _DIGIT_BLOCK, 2:] = digits
    return text.reshape(*odds.shape, decimals + 2)


def _results(prediction: Prediction, separator: bytes, head: bytes = b"", tail: bytes = b"") -> bytes:
    odds = _checked(prediction.odds)
    if prediction.reasons is not None:
        return _explained_results(prediction, prediction.reasons, odds, separator, head, tail)
    writer = _small_results if odds.size <= SMALL_RESULTS else _array_results
    return writer(prediction, odds, separator, head, tail)


def _small_results(prediction: Prediction, odds: np.ndarray, separator: bytes, head: bytes, tail: bytes) -> bytes:
    """_array_results with the text written by Python's formatting (correctly rounded, as _scaled is), same order."""
    prefixes = _card_prefix_bytes(prediction.card_ids)
    ranks = _ranked(odds, prediction.top_k).tolist()
    results = []
    for applicant, ranked, values in zip(prediction.applicant_ids, ranks, odds.tolist(), strict=True):
        entries = [_SMALL_ENTRY % (prefixes[c], values[c]) for c in ranked]
        results.append(b'{"applicant_id":%b,"odds":[%b]}' % (orjson.dumps(applicant), b",".join(entries)))
    return head + separator.join(results) + tail


def _explained_results(
    prediction: Prediction, reasons: Reasons, odds: np.ndarray, separator: bytes, head: bytes, tail: bytes
) -> bytes:
    """_small_results with each card entry's reasons; only requests that ask for reasons come here."""
    prefixes = _card_prefix_bytes(prediction.card_ids)
    codes = [code.prefix for code in reasons.codes]
    values = odds.tolist()
    ranks = _ranked(odds, prediction.top_k).tolist()
    indexes, contributions = reasons.index.tolist(), reasons.contributions.tolist()
    results = []
    for row, (applicant, ranked) in enumerate(zip(prediction.applicant_ids, ranks, strict=True)):
        # One orjson call writes the applicant's contributions (shortest float text), split per card and reason.
        texts = [card.split(b",") for card in orjson.dumps(contributions[row])[2:-2].split(b"],[")]
        entries = [
            _EXPLAINED_ENTRY
            % (
                prefixes[card],
                values[row][card],
                b",".join(
                    [
                        codes[code] + text + b"}"
                        for code, text in zip(indexes[row][card], texts[card], strict=True)
                        if code >= 0
                    ]
                ),
            )
            for card in ranked
        ]
        results.append(b'{"applicant_id":%b,"odds":[%b]}' % (orjson.dumps(applicant), b",".join(entries)))
    return head + separator.join(results) + tail


def _array_results(prediction: Prediction, odds: np.ndarray, separator: bytes, head: bytes, tail: bytes) -> bytes:
    """head + every applicant's result object joined by `separator` + tail, built with one join (outputs reach
    hundreds of MB for large batches, and every extra concatenation is another full copy)."""
    applicants = odds.shape[0]
    if applicants == 0:
        return head + tail
    order = _ranked(odds, prediction.top_k)
    keep = order.shape[1]
    prefixes = _card_prefixes(prediction.card_ids)
    width = prefixes.shape[1]
    text = odds_text(np.take_along_axis(odds, order, axis=1), JSON_DECIMALS)
    entries = np.empty((applicants, keep, width + text.shape[-1] + 2), dtype=np.uint8)
    entries[..., :width] = prefixes[order]
    entries[..., width:-2] = text
    entries[..., -2] = _CLOSE
    entries[..., -1] = _COMMA
    entries[:, -1:, -1] = _PAD  # no comma after an applicant's last entry
    size = entries.shape[1] * entries.shape[2]
    blocks = entries.reshape(applicants, size).view(f"S{size}").ravel().tolist() if size else [b""] * applicants
    starts = [b'{"applicant_id":%b,"odds":[' % orjson.dumps(applicant) for applicant in prediction.applicant_ids]
    ends = chain(repeat(b"]}" + separator, applicants - 1), (b"]}" + tail,))
    pieces = chain((head,), chain.from_iterable(zip(starts, blocks, ends, strict=True)))
    return b"".join(pieces).replace(b"\x00", b"")


def _scaled(odds: np.ndarray, decimals: int) -> np.ndarray:
    """The integer the exact value of odds x 10**decimals rounds to (half to even): the digits f"{x:.15f}" prints.

    rint(odds * 10**d) rounds twice — the product, then to an integer — and is one off whenever the product's
    rounding crosses a half (3.6 % of random odds at 15 decimals). The product's error is at most half the spacing
    of 10**d (2**-4 at 15 decimals), so only products that close to a half are redone exactly: Dekker's error-free
    product gives odds x 10**d = product + error, and an error-free sum the exact distance from the nearest
    integer."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be between 0 and {MAX_DECIMALS}")
    scale = 10.0**decimals  # exact
    flat = odds.reshape(-1)
    scaled = np.empty(flat.size, dtype=np.int64)
    for start in range(0, flat.size, _DIGIT_BLOCK):  # blocks: the temporaries stay in cache
        scaled[start : start + _DIGIT_BLOCK] = _rounded(flat[start : start + _DIGIT_BLOCK], scale)
    return scaled.reshape(odds.shape)


def _rounded(odds: np.ndarray, scale: float) -> np.ndarray:
    """_scaled of a 1-D block."""
    product = odds * scale
    nearest = np.rint(product)
    scaled = nearest.astype(np.int64)
    gap = product - nearest  # exact (Sterbenz)
    doubtful = np.flatnonzero(np.abs(gap) >= 0.5 - np.spacing(scale) / 2)  # the product's error is below this
    if doubtful.size:
        gap = gap[doubtful]
        error = _product_error(odds[doubtful], scale, product[doubtful])
        total = gap + error
        back = total - gap
        residue = (gap - (total - back)) + (error - back)  # gap + error = total + residue, exactly
        odd = (scaled[doubtful] & 1) == 1  # integer parity: float % 2 is much slower (docs/performance.md)
        up = (total > 0.5) | ((total == 0.5) & ((residue > 0) | ((residue == 0) & odd)))
        down = (total < -0.5) | ((total == -0.5) & ((residue < 0) | ((residue == 0) & odd)))
        scaled[doubtful] += up.astype(np.int64) - down.astype(np.int64)
    return scaled


def _product_error(a: np.ndarray, b: float, product: np.ndarray) -> np.ndarray:
    """a x b - product, exactly (Dekker's TwoProduct with Veltkamp's split; no overflow or underflow here)."""
    a_high, a_low = _split(a)
    b_high, b_low = _split(np.asarray(b))
    return ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a = high + low, each of at most 26 significant bits, so their products are exact."""
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


def _ranked(odds: np.ndarray, top_k: int | None) -> np.ndarray:
    """Per applicant, card positions from the highest odds down (ties in catalogue order), cut to top_k."""
    return np.argsort(-odds, axis=1, kind="stable")[:, :top_k]


@functools.lru_cache(maxsize=4)
def _card_prefix_bytes(card_ids: tuple[str, ...]) -> tuple[bytes, ...]:
    """Card c's entry up to its odds: `{"card_id":"<id>","approval_odds":` (cached per card set)."""
    return tuple(b'{"card_id":%b,"approval_odds":' % orjson.dumps(card) for card in card_ids)


@functools.lru_cache(maxsize=4)
def _card_prefixes(card_ids: tuple[str, ...]) -> np.ndarray:
    """_card_prefix_bytes as rows of a uint8 table, NUL-padded to the longest."""
    prefixes = _card_prefix_bytes(card_ids)
    width = max(map(len, prefixes), default=0)
    table = np.zeros((len(prefixes), width), dtype=np.uint8)
    for row, prefix in enumerate(prefixes):
        table[row, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    table.setflags(write=False)
    return table


def _checked(odds: np.ndarray) -> np.ndarray:
    """The matrix as float64 — or ValueError (an internal fault, not the caller's) if it is not all in [0, 1]."""
    odds = np.asarray(odds, dtype=np.float64)
    if odds.ndim != 2 or not ((odds >= 0) & (odds <= 1)).all():
        raise ValueError("approval odds must be a 2-D matrix of probabilities in [0, 1]")
    return odds
