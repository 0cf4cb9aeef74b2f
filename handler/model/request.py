"""What a scoring request asks for and what scoring answers: the types codecs and engines share."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import orjson


@dataclass(frozen=True)
class ScoringRequest:
    """A decoded, validated request: what input_fn produces and predict_fn consumes."""

    applicant_ids: list[str | int | None]
    features: np.ndarray  # float64 (applicants x applicant features, metadata order)
    cards: tuple[str, ...] | None = None  # None: the default selection
    top_k: int | None = None
    refresh_catalog: bool = False  # custom attribute refresh-card-variables=true
    reasons: int | None = None  # up to this many reason codes per card; None: no explanation

    def __len__(self) -> int:
        return len(self.applicant_ids)


@dataclass(frozen=True)
class Prediction:
    """Odds for each applicant (rows, input order) and each selected card (columns, catalogue order)."""

    applicant_ids: list[str | int | None]
    card_ids: tuple[str, ...]
    odds: np.ndarray  # float64 (applicants x cards)
    model_version: str
    catalog_version: str
    top_k: int | None = None
    reasons: Reasons | None = None  # per applicant x card, when the request asked for them


@dataclass(frozen=True)
class ReasonCode:
    code: str
    feature: str  # the code's applicant feature(s), comma-separated in metadata order
    text: str

    @functools.cached_property
    def prefix(self) -> bytes:
        """The reason's JSON object up to its contribution."""
        return b'{"code":%b,"feature":%b,"text":%b,"contribution":' % tuple(
            map(orjson.dumps, (self.code, self.feature, self.text))
        )


@dataclass(frozen=True)
class Reasons:
    """Per applicant x selected card (the Prediction's order): up to N reasons, most negative first."""

    codes: tuple[ReasonCode, ...]
    index: np.ndarray  # intp (applicants x cards x N): position in `codes`, -1 where there are fewer reasons
    contributions: np.ndarray  # float64, same shape
