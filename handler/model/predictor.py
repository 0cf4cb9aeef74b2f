"""Approval odds from the estimator: the fastest engine proven bit-identical to scikit-learn, else sklearn itself.

Engines (figures per model shape in docs/performance.md):
- pair-trees (handler/model/pair_trees.py): the cards' half of every tree evaluated once per catalogue. With trees of up
  to 8 leaves (depth 3) a per-catalogue table makes it the fastest at every call size; with deeper trees each pair
  costs more than sklearn's traversal, so it takes calls of up to DEEP_MAX_APPLICANTS applicants (the real-time
  ones, where it is faster) and sklearn the larger ones.
- onnxruntime (handler/model/tree_onnx.py): a double-precision TreeEnsemble, for calls up to `max_rows` rows (sklearn
  above); the fallback for trees pair-trees cannot hold (more than 64 leaves).
- sklearn predict_proba.
Each compiled form is built once per worker and must give exactly sklearn's predict_proba (np.array_equal) on a
synthetic validation set whose size is bounded by CHECK_BUDGET, so a check takes seconds whatever the model's
size; any failure to import, build or match falls back to the next engine, logged once. A verdict already reached
on this host for the same artefact and code (handler/model/verdicts.py) is reused instead of checking again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import expit

from config.settings import ONNXRUNTIME, PAIR_TREES, PREDICTION_ENGINES, SKLEARN
from handler.model import tree_onnx
from handler.model.metadata import ModelMetadata
from handler.model.pair_trees import PairTreePredictor

MAX_ROWS = 256  # below the onnxruntime/sklearn crossover measured on the demo model (docs/performance.md)
# Trees deeper than 3: pair-trees beats sklearn for a few applicants and loses on larger calls (where they cross:
# docs/performance.md).
DEEP_MAX_APPLICANTS = 8
# Rows x split nodes each engine scores in the load-time check: bounds its time for any model the trainer allows
# (5,000 trees of depth 3 or 200 of depth 6; docs/performance.md). Small models are checked on every row below.
CHECK_BUDGET = 1 << 27
MIN_CHECK_ROWS = 512
APPLICANT_SAMPLES = 64  # random applicants paired with every catalogue card
RANDOM_ROWS = 2048  # rows with random card features too
SINGLE_ROW_CHECKS = 8  # onnxruntime has a separate code path for one row
PROBES = 5  # values per split threshold: at it, and one float64 and one float32 step either side

log = logging.getLogger(__name__)


ENGINES = PREDICTION_ENGINES  # each falls back to the ones after it


class Predictor(Protocol):
    @property
    def kind(self) -> str:
        """The engine's name, as logs and PREDICTION_ENGINE say it."""
        ...

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        """Probability of approval (class 1), float64, one per row of the (rows x feature_order) matrix."""
        ...

    def grid_odds(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(applicants x rows) probabilities: every applicant (applicant features, metadata order) with every
        selected row of `cards`, a catalogue's read-only card feature matrix."""
        ...


@dataclass(frozen=True)
class PairLayout:
    """Where applicant and card features go in the estimator's input (metadata feature_order)."""

    applicant_columns: np.ndarray
    card_columns: np.ndarray

    @classmethod
    def of(cls, metadata: ModelMetadata) -> PairLayout:
        position = {name: i for i, name in enumerate(metadata.feature_order)}
        return cls(
            np.array([position[name] for name in metadata.applicant_feature_names], dtype=np.intp),
            np.array([position[name] for name in metadata.card_feature_names], dtype=np.intp),
        )

    def pairs(self, applicants: np.ndarray, cards: np.ndarray) -> np.ndarray:
        """The estimator's input for every applicant x card pair, applicant-major (row = a * n_cards + c)."""
        n_applicants, n_cards = applicants.shape[0], cards.shape[0]
        width = len(self.applicant_columns) + len(self.card_columns)
        matrix = np.empty((n_applicants * n_cards, width), dtype=np.float64)
        matrix[:, self.applicant_columns] = np.repeat(applicants, n_cards, axis=0)
        matrix[:, self.card_columns] = np.tile(cards, (n_applicants, 1))
        return matrix


@dataclass(frozen=True)
class RowPredictor:
    """An engine that scores full feature rows (sklearn, onnxruntime), given each pair as a row."""

    engine: SklearnPredictor | OnnxPredictor
    layout: PairLayout

    @property
    def kind(self) -> str:
        return self.engine.kind

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        return self.engine.approval_odds(pairs)

    def grid_odds(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> np.ndarray:
        pairs = self.layout.pairs(applicants, cards[rows])
        return self.engine.approval_odds(pairs).reshape(len(applicants), len(rows))


@dataclass(frozen=True)
class SklearnPredictor:
    estimator: Any
    column: int  # of predict_proba: class 1, approved
    kind: str = SKLEARN

    @classmethod
    def of(cls, estimator: Any) -> SklearnPredictor:
        return cls(estimator, list(estimator.classes_).index(1))

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(pairs)[:, self.column]


@dataclass(frozen=True)
class OnnxPredictor:
    session: Any  # onnxruntime.InferenceSession, single-threaded
    large: SklearnPredictor  # faster per row, so it takes calls above max_rows
    max_rows: int
    kind: str = ONNXRUNTIME

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        if pairs.shape[0] > self.max_rows:
            return self.large.approval_odds(pairs)
        return self.compiled_odds(pairs)

    def compiled_odds(self, pairs: np.ndarray) -> np.ndarray:
        # sklearn's trees compare float32(x) <= threshold; rounding here makes the double graph compare the same x.
        rows = pairs.astype(np.float32).astype(np.float64)
        return expit(self.session.run([tree_onnx.OUTPUT], {tree_onnx.INPUT: rows})[0][:, 0])


@dataclass(frozen=True)
class SizeRouted:
    """Calls of up to `max_applicants` applicants (rows, for approval_odds) go to `small`, larger ones to `large`."""

    small: Predictor
    large: Predictor
    max_applicants: int

    @property
    def kind(self) -> str:
        return self.small.kind

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        return self._for(len(pairs)).approval_odds(pairs)

    def grid_odds(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._for(len(applicants)).grid_odds(applicants, cards, rows)

    def _for(self, applicants: int) -> Predictor:
        return self.small if applicants <= self.max_applicants else self.large


Compiler = Callable[[Any], bytes]


@dataclass(frozen=True)
class Verdict:
    """What a load-time check concluded: the engine that serves, and how much was checked."""

    engine: str
    rows_checked: int  # validation rows each candidate engine had to match on
    reused: bool = False  # taken from an earlier check of the same artefact on this host: nothing checked


def choose_engine(
    estimator: Any,
    metadata: ModelMetadata,
    cards: np.ndarray | None = None,
    *,
    engine: str = ENGINES[0],
    max_rows: int = MAX_ROWS,
    compile_model: Compiler = tree_onnx.raw_score_onnx,
    verified: str | None = None,
) -> tuple[Predictor, Verdict]:
    """The first of `engine` and the engines after it (ENGINES) that builds and gives exactly sklearn's odds, and the
    verdict to keep for the next process loading the same artefact. `cards` (a catalogue's card feature matrix) makes
    the validation set realistic. `verified` names the engine an earlier check of this very artefact chose
    (handler/model/verdicts.py): it is built without checking again."""
    if engine not in ENGINES:
        raise ValueError(f"unknown prediction engine {engine!r}")
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    layout = PairLayout.of(metadata)
    sklearn = SklearnPredictor.of(estimator)
    baseline = RowPredictor(sklearn, layout)
    builders: dict[str, Callable[[], Predictor]] = {
        PAIR_TREES: lambda: _pair_trees_for_shape(
            PairTreePredictor.build(estimator, layout.applicant_columns, layout.card_columns), baseline
        ),
        ONNXRUNTIME: lambda: RowPredictor(
            OnnxPredictor(onnx_session(compile_model(estimator)), sklearn, max_rows), layout
        ),
    }
    candidates = ENGINES[ENGINES.index(engine) : -1]
    if verified == SKLEARN or verified in candidates:
        try:
            predictor = builders[verified]() if verified != SKLEARN else baseline
            log.info("approval odds: %s, as checked earlier on this host", describe(predictor))
            return predictor, Verdict(verified, 0, reused=True)
        except Exception as exc:  # the environment changed under the verdict: check afresh
            log.warning("approval odds: %s no longer builds (%s: %s)", verified, type(exc).__name__, _first_line(exc))
    for name in candidates:
        started = time.perf_counter()
        try:
            predictor = builders[name]()
            rows = validation_rows(metadata, cards, tree_onnx.split_points(estimator))
            wrong, compared, difference = _mismatches(predictor, baseline, rows, cards, max_rows)
        except Exception as exc:  # ImportError, UnsupportedModel, onnxruntime's own errors: try the next engine
            log.warning("approval odds: %s is unavailable (%s: %s)", name, type(exc).__name__, _first_line(exc))
            continue
        if wrong:
            log.warning(
                "approval odds: %s differs from sklearn on %d of %d odds of %d validation rows (by up to %.3g)",
                name,
                wrong,
                compared,
                len(rows),
                difference,
            )
            continue
        log.info(
            "approval odds: %s; bit-identical to sklearn on %d rows; built and checked in %.2f s",
            describe(predictor),
            len(rows),
            time.perf_counter() - started,
        )
        return predictor, Verdict(name, len(rows))
    if engine != SKLEARN:
        log.warning("approval odds: using sklearn predict_proba, the compiled engines being unusable")
    return baseline, Verdict(SKLEARN, 0)


def _pair_trees_for_shape(predictor: PairTreePredictor, baseline: RowPredictor) -> Predictor:
    """pair-trees for every call when its per-catalogue table holds the trees, else only for small calls."""
    if predictor.by_mask:
        return predictor
    return SizeRouted(predictor, baseline, DEEP_MAX_APPLICANTS)


def describe(predictor: Predictor) -> str:
    """The engine as logs and the bench name it, with its call-size routing."""
    if isinstance(predictor, RowPredictor) and isinstance(predictor.engine, OnnxPredictor):
        return f"onnxruntime for calls up to {predictor.engine.max_rows} rows, sklearn above"
    if isinstance(predictor, SizeRouted):
        return f"{predictor.small.kind} for calls up to {predictor.max_applicants} applicants, sklearn above"
    return predictor.kind


def onnx_session(model: bytes) -> Any:
    """A single-threaded onnxruntime session for a serialized model."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # MMS runs one worker process per core: a second thread per worker would only contend.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings would go to the worker's stderr
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _first_line(exc: Exception) -> str:
    return next(iter(str(exc).splitlines()), "")


def _mismatches(
    predictor: Predictor, baseline: RowPredictor, rows: np.ndarray, cards: np.ndarray | None, chunk: int
) -> tuple[int, int, float]:
    """(odds that differ from sklearn's in any bit, odds compared, the largest difference) over rows scored the ways
    serving scores them: single rows, `chunk`-row calls, and applicants crossed with every card of the catalogue."""
    if isinstance(predictor, SizeRouted):  # its large calls go to sklearn itself: check its own engine on every row
        predictor = predictor.small
    singles = rows[:SINGLE_ROW_CHECKS]
    got = [predictor.approval_odds(row[np.newaxis]) for row in singles]
    got += [predictor.approval_odds(rows[i : i + chunk]) for i in range(0, len(rows), chunk)]
    expected = [baseline.approval_odds(np.concatenate([singles, rows]))]
    if cards is not None and len(cards):
        applicants = rows[: _grid_applicants(len(rows), len(cards))][:, baseline.layout.applicant_columns]
        every_card = np.arange(len(cards))
        got.append(predictor.grid_odds(applicants, cards, every_card).reshape(-1))
        for one in applicants[:SINGLE_ROW_CHECKS]:  # the real-time call: one applicant
            got.append(predictor.grid_odds(one[np.newaxis], cards, every_card).reshape(-1))
        expected.append(baseline.grid_odds(applicants, cards, every_card).reshape(-1))
        expected.append(expected[-1][: SINGLE_ROW_CHECKS * len(cards)])
    served, reference = np.concatenate(got), np.concatenate(expected)
    wrong = served != reference
    wrong |= np.isnan(served) | np.isnan(reference)
    return int(np.count_nonzero(wrong)), len(reference), float(np.max(np.abs(served - reference), initial=0.0))


def check_limit(splits: np.ndarray) -> int:
    """Validation rows for a model with these split nodes: CHECK_BUDGET rows x splits, at least MIN_CHECK_ROWS."""
    return max(MIN_CHECK_ROWS, CHECK_BUDGET // max(1, len(splits)))


def _grid_applicants(limit: int, n_cards: int) -> int:
    """Applicants crossed with every card: APPLICANT_SAMPLES, fewer when the check's rows are limited."""
    return max(1, min(APPLICANT_SAMPLES, limit // (4 * max(1, n_cards))))


def validation_rows(metadata: ModelMetadata, cards: np.ndarray | None, splits: np.ndarray, seed: int = 0) -> np.ndarray:
    """Synthetic rows (feature_order columns) covering the model's input space, with no real applicant in them:
    check_limit(splits) rows, or fewer for a small model (all of them then), so a large model's check stays bounded;
    only the rows every model gets (each feature at its bounds, alone and with every card) can exceed it.

    Every feature at its bounds; random applicants within the metadata bounds paired with every card; each split
    threshold probed at, and one float32/float64 step either side of, its value (one threshold of every feature per
    row); random rows. When the limit is reached the probes and random rows are a deterministic sample.
    """
    rng = np.random.default_rng(seed)
    limit = check_limit(splits)
    low, high, boolean = _bounds(metadata)
    shape = (RANDOM_ROWS, len(low))
    sampled = np.where(boolean, rng.integers(0, 2, shape), rng.uniform(low, high, shape))
    at_bounds = np.repeat(sampled[:1], 2 * len(low) + 2, axis=0)
    at_bounds[0], at_bounds[1] = low, high
    for column in range(len(low)):
        at_bounds[2 + 2 * column, column], at_bounds[3 + 2 * column, column] = low[column], high[column]
    parts = [sampled[:APPLICANT_SAMPLES]]  # first: the applicants _mismatches crosses with every card
    if cards is not None and len(cards):
        card_columns = [metadata.feature_order.index(name) for name in metadata.card_feature_names]
        applicants = np.concatenate([sampled[: _grid_applicants(limit, len(cards))], at_bounds])
        paired = np.repeat(applicants, len(cards), axis=0)
        paired[:, card_columns] = np.tile(cards, (len(applicants), 1))
        parts.append(paired)
    parts.append(at_bounds)
    room = max(0, limit - sum(len(part) for part in parts))
    probes, extra = _split_probes(sampled, splits), sampled[APPLICANT_SAMPLES:]
    n_probes = min(len(probes), max(room - len(extra), room // 2))  # random rows get at most half a tight room
    parts += [probes[np.sort(rng.permutation(len(probes))[:n_probes])], extra[: room - n_probes]]
    return np.concatenate(parts)


def _bounds(metadata: ModelMetadata) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per feature_order column: sampling range (metadata bounds, which every number has; booleans 0-1) and
    whether boolean."""
    specs = {spec.name: spec for spec in (*metadata.applicant_features, *metadata.card_features)}
    low, high, boolean = [], [], []
    for name in metadata.feature_order:
        spec = specs[name]
        number = spec.type == "number" and spec.min is not None and spec.max is not None
        low.append(spec.min if number else 0.0)
        high.append(spec.max if number else 1.0)
        boolean.append(not number)
    return np.array(low, dtype=np.float64), np.array(high, dtype=np.float64), np.array(boolean)


def _split_probes(sampled: np.ndarray, splits: np.ndarray) -> np.ndarray:
    """Rows of split-threshold probes, other features from the sampled rows: where float32 rounding decides. Each
    row probes one distinct threshold of every feature at once, so there are PROBES x (most thresholds of one
    feature) rows rather than one per split."""
    unique = np.unique(splits, axis=0)
    features = unique[:, 0].astype(np.intp)
    threshold = unique[:, 1]
    single = threshold.astype(np.float32)
    values = np.concatenate(
        [
            threshold,
            np.nextafter(threshold, np.inf),
            np.nextafter(threshold, -np.inf),
            np.nextafter(single, np.float32(np.inf)).astype(np.float64),
            np.nextafter(single, np.float32(-np.inf)).astype(np.float64),
        ]
    )
    features = np.tile(features, PROBES)
    order = np.argsort(features, kind="stable")
    features, values = features[order], values[order]
    # The k-th probe of each feature goes to row k.
    rank = np.arange(len(features)) - np.searchsorted(features, features)
    n_rows = int(rank.max()) + 1 if len(rank) else 0
    probes = sampled[np.arange(n_rows) % len(sampled)]
    probes[rank, features] = values
    return probes
