"""Pair every applicant with every selected card and score the pairs a block of applicants at a time.

Blocks bound the memory of a large batch: 4 million applicants x 41 cards x 16 features would be a 21 GB pair
matrix (plus the estimator's float32 copy) in one call; a block is ~8 MB and scores as fast per pair.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from handler.errors import Detail, bad_request
from handler.model.artifact import Artifact
from handler.model.catalog import Catalog
from handler.model.request import Prediction, ScoringRequest

PAIRS_PER_BLOCK = 1 << 16  # applicant x card pairs per predict_proba call


def select_cards(catalog: Catalog, requested: tuple[str, ...] | None, default: tuple[str, ...] | None) -> np.ndarray:
    """Catalogue rows of the requested cards (or the default, or every active card), in catalogue order."""
    wanted = requested if requested is not None else default
    if wanted is None:
        return catalog.active_rows
    unknown = unknown_cards(catalog, wanted)
    if unknown:
        where = "cards" if requested is not None else "DEFAULT_CARDS"
        raise bad_request(
            "unknown_card",
            f"{len(unknown)} card id(s) are not in catalogue {catalog.version}",
            [Detail(f"unknown card id {card!r}", field=where) for card in unknown],
        )
    return np.sort(np.fromiter((catalog.index[card] for card in wanted), dtype=np.intp, count=len(wanted)))


def unknown_cards(catalog: Catalog, wanted: Iterable[str]) -> list[str]:
    """The ids of `wanted` that `catalog` lacks, in the order given."""
    return [card for card in wanted if card not in catalog.index]


def score(artifact: Artifact, catalog: Catalog, request: ScoringRequest, default: tuple[str, ...] | None) -> Prediction:
    rows = select_cards(catalog, request.cards, default)
    odds = np.empty((len(request), len(rows)), dtype=np.float64)
    step = max(1, PAIRS_PER_BLOCK // max(1, len(rows)))
    for start in range(0, len(request) if len(rows) else 0, step):
        block = request.features[start : start + step]
        odds[start : start + step] = artifact.predictor.grid_odds(block, catalog.features, rows)
    return Prediction(
        applicant_ids=request.applicant_ids,
        card_ids=catalog.active_ids if rows is catalog.active_rows else tuple(catalog.card_ids[i] for i in rows),
        odds=odds,
        model_version=artifact.metadata.model_version,
        catalog_version=catalog.version,
        top_k=request.top_k,
    )
