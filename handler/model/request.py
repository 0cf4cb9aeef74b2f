"""What a scoring request asks for and what scoring answers: the types codecs and engines share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # reasons.py builds on scoring, which builds on this module
    from handler.model.reasons import Reasons


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
