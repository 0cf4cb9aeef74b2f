"""Reason codes: for each applicant x card pair, the applicant's reasons that push the card's log-odds down most.

Contributions come from exact TreeSHAP (handler/model/tree_shap.py). Features sharing a code are summed into one reason;
only negative sums are reasons, most negative first (ties in code order), at most the request's `reasons` (N).
A reason is {"code", "feature", "text", "contribution"}: "feature" names the applicant feature(s) behind the code,
comma-separated in metadata order; "contribution" is the (summed) change to the raw log-odds, always < 0.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from handler.errors import Detail, bad_request
from handler.model.catalog import Catalog
from handler.model.metadata import ModelMetadata
from handler.model.reason_codes import reason_entries
from handler.model.request import Prediction, ReasonCode, Reasons, ScoringRequest
from handler.model.scoring import select_cards
from handler.model.tree_onnx import UnsupportedModel, check_supported
from handler.model.tree_shap import TreeExplainer, describe, planned_kind

APPLICANTS_PER_BLOCK = 4096  # bounds the (applicants x cards x features) contributions of a large batch
EAGER_NODES = 200_000  # tree nodes: up to here (about a second) the engine is built at worker start
MAX_LEAVES = 2_000_000  # beyond, one request's explanation would take minutes: reasons are refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReasonGroups:
    """The metadata's codes, in order of their first feature, and which contribution columns each one sums."""

    codes: tuple[ReasonCode, ...]
    members: np.ndarray  # float64 (applicant features + 1 card column x codes), 0/1; the card column is in none

    @classmethod
    def of(cls, metadata: ModelMetadata) -> ReasonGroups:
        entries = reason_entries(metadata.applicant_features, metadata.reason_codes)
        by_code: dict[str, list[str]] = {}
        for name, (code, _) in entries.items():
            by_code.setdefault(code, []).append(name)
        texts = {code: text for code, text in entries.values()}
        position = {name: i for i, name in enumerate(entries)}
        members = np.zeros((len(entries) + 1, len(by_code)), dtype=np.float64)
        for column, names in enumerate(by_code.values()):
            members[[position[name] for name in names], column] = 1.0
        codes = tuple(ReasonCode(code, ",".join(names), texts[code]) for code, names in by_code.items())
        return cls(codes, members)


class Explainer:
    """The model's TreeSHAP engine and reason codes; says at start-up which engine explains. Built at worker start
    for models of up to EAGER_NODES nodes, else on the first request that asks for reasons."""

    def __init__(self, estimator: Any, metadata: ModelMetadata, applicant_columns: Any, card_columns: Any) -> None:
        self.groups = ReasonGroups.of(metadata)
        self.unavailable = ""
        self._engine: TreeExplainer | None = None
        self._build: Callable[[], TreeExplainer] | None = None
        try:
            check_supported(estimator)
        except UnsupportedModel as exc:
            self.unavailable = str(exc)
            log.warning("reason codes: unavailable, requests for them are refused (%s)", exc)
            return
        trees = [regressor.tree_ for (regressor,) in estimator.estimators_]
        leaves = sum(int(tree.n_leaves) for tree in trees)
        if leaves > MAX_LEAVES:
            self.unavailable = f"its {leaves:,} leaves are more than the {MAX_LEAVES:,} one request can walk in time"
            log.warning("reason codes: unavailable, requests for them are refused (%s)", self.unavailable)
            return
        self._build = lambda: TreeExplainer.build(estimator, applicant_columns, card_columns)
        kind = planned_kind([int(tree.node_count - tree.n_leaves) for tree in trees], len(applicant_columns) + 1)
        later = "" if sum(int(tree.node_count) for tree in trees) <= EAGER_NODES else " (built on first use)"
        if kind == "tables":
            log.info("reason codes: %s%s", describe(kind), later)
        else:
            log.warning("reason codes: %s; the trees are too large to tabulate%s", describe(kind), later)
        if not later:
            self._engine = self._build()

    @property
    def engine(self) -> TreeExplainer:
        if self._engine is None:
            if self._build is None:
                problem = f"this model cannot give reason codes: {self.unavailable}"
                raise bad_request("invalid_value", problem, [Detail(problem, field="reasons")])
            self._engine = self._build()
        return self._engine

    def explain(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray, limit: int) -> Reasons:
        """Reasons for each applicant (features, metadata order) with each selected row of the card matrix."""
        engine = self.engine
        shape = (len(applicants), len(rows), min(limit, len(self.groups.codes)))
        index = np.empty(shape, dtype=np.intp)
        values = np.empty(shape, dtype=np.float64)
        for start in range(0, len(applicants), APPLICANTS_PER_BLOCK):
            block = slice(start, start + APPLICANTS_PER_BLOCK)
            grouped = engine.grid(applicants[block], cards, rows) @ self.groups.members
            order = np.argsort(grouped, axis=-1, kind="stable")[..., : shape[2]]
            values[block] = np.take_along_axis(grouped, order, axis=-1)
            index[block] = np.where(values[block] < 0, order, -1)
        return Reasons(self.groups.codes, index, values)


def with_reasons(
    prediction: Prediction, explainer: Explainer, catalog: Catalog, request: ScoringRequest, settings: Any
) -> Prediction:
    """The prediction with the request's reasons, else DEFAULT_REASONS' (neither: the prediction as it is).
    `catalog` must be the one the prediction was scored on, so the cards are the same."""
    limit = request.reasons if request.reasons is not None else settings.default_reasons
    if limit is None:
        return prediction
    rows = select_cards(catalog, request.cards, settings.default_cards)
    return dataclasses.replace(prediction, reasons=explainer.explain(request.features, catalog.features, rows, limit))
