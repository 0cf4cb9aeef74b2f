"""Approval odds from the estimator: the fastest engine that is proven equal to scikit-learn, else sklearn.

Engines, measured on the demo model (300 trees of depth 3) for one applicant x 39 cards / 50 applicants:
- pair-trees (handler/pair_trees.py): the cards' half of every tree evaluated once per catalogue; ~22 µs / 0.55 ms.
- onnxruntime (handler/tree_onnx.py): a double-precision TreeEnsemble, ~52 µs, but ~1.3 µs a row against
  sklearn's ~0.7 µs, so it only serves calls up to `max_rows` rows and larger calls go to sklearn.
- sklearn predict_proba: ~210 µs (mostly input validation) / 1.6 ms.
Each compiled form is built once per worker and checked against sklearn's predict_proba on a synthetic
validation set; any failure to import, build or match falls back to the next engine, logged once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import expit

from handler import tree_onnx
from handler.metadata import ModelMetadata
from handler.pair_trees import PairTreePredictor

MAX_ROWS = 256  # the measured onnxruntime/sklearn crossover for the demo model is ~310 rows
TOLERANCE = 1e-6  # max abs difference in probability allowed against sklearn
APPLICANT_SAMPLES = 64  # random applicants paired with every catalogue card
RANDOM_ROWS = 2048  # rows with random card features too
SINGLE_ROW_CHECKS = 8  # onnxruntime has a separate code path for one row

log = logging.getLogger(__name__)


ENGINES = ("pair-trees", "onnxruntime", "sklearn")  # each falls back to the ones after it


class Predictor(Protocol):
    kind: str

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
    kind: str = "sklearn"

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
    kind: str = "onnxruntime"

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        if pairs.shape[0] > self.max_rows:
            return self.large.approval_odds(pairs)
        return self.compiled_odds(pairs)

    def compiled_odds(self, pairs: np.ndarray) -> np.ndarray:
        # sklearn's trees compare float32(x) <= threshold; rounding here makes the double graph compare the same x.
        rows = pairs.astype(np.float32).astype(np.float64)
        return expit(self.session.run([tree_onnx.OUTPUT], {tree_onnx.INPUT: rows})[0][:, 0])


Compiler = Callable[[Any], bytes]


def load_predictor(
    estimator: Any,
    metadata: ModelMetadata,
    cards: np.ndarray | None = None,
    *,
    engine: str = ENGINES[0],
    max_rows: int = MAX_ROWS,
    compile_model: Compiler = tree_onnx.raw_score_onnx,
) -> Predictor:
    """The first of `engine` and the engines after it (ENGINES) that builds and matches sklearn within
    TOLERANCE; `cards` (a catalogue's card feature matrix) makes the validation set realistic."""
    if engine not in ENGINES:
        raise ValueError(f"unknown prediction engine {engine!r}")
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    layout = PairLayout.of(metadata)
    baseline = RowPredictor(SklearnPredictor.of(estimator), layout)
    builders: dict[str, Callable[[], Predictor]] = {
        "pair-trees": lambda: PairTreePredictor.build(estimator, layout.applicant_columns, layout.card_columns),
        "onnxruntime": lambda: RowPredictor(
            OnnxPredictor(onnx_session(compile_model(estimator)), baseline.engine, max_rows), layout
        ),
    }
    for name in ENGINES[ENGINES.index(engine) : -1]:
        started = time.perf_counter()
        try:
            predictor = builders[name]()
            rows = validation_rows(metadata, cards, tree_onnx.split_points(estimator))
            difference = _max_difference(predictor, baseline, rows, cards, max_rows)
        except Exception as exc:  # ImportError, UnsupportedModel, onnxruntime's own errors: try the next engine
            log.warning("approval odds: %s is unavailable (%s: %s)", name, type(exc).__name__, _first_line(exc))
            continue
        if not difference <= TOLERANCE:  # also catches NaN
            log.warning(
                "approval odds: %s differs from sklearn by %.3g > %g on %d validation rows",
                name,
                difference,
                TOLERANCE,
                len(rows),
            )
            continue
        log.info(
            "approval odds: %s; parity with sklearn %.3g on %d rows; built in %.2f s",
            _describe(predictor),
            difference,
            len(rows),
            time.perf_counter() - started,
        )
        return predictor
    if engine != "sklearn":
        log.warning("approval odds: using sklearn predict_proba, the compiled engines being unusable")
    return baseline


def _describe(predictor: Predictor) -> str:
    if isinstance(predictor, RowPredictor) and isinstance(predictor.engine, OnnxPredictor):
        return f"onnxruntime for calls up to {predictor.engine.max_rows} rows, sklearn above"
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


def _max_difference(
    predictor: Predictor, baseline: RowPredictor, rows: np.ndarray, cards: np.ndarray | None, chunk: int
) -> float:
    """Largest |predictor - sklearn| over rows scored the ways serving scores them: single rows, `chunk`-row
    calls, and applicants crossed with every card of the catalogue."""
    singles = rows[:SINGLE_ROW_CHECKS]
    got = [predictor.approval_odds(row[np.newaxis]) for row in singles]
    got += [predictor.approval_odds(rows[i : i + chunk]) for i in range(0, len(rows), chunk)]
    expected = [baseline.approval_odds(np.concatenate([singles, rows]))]
    if cards is not None and len(cards):
        applicants = rows[:APPLICANT_SAMPLES][:, baseline.layout.applicant_columns]
        every_card = np.arange(len(cards))
        got.append(predictor.grid_odds(applicants, cards, every_card).reshape(-1))
        expected.append(baseline.grid_odds(applicants, cards, every_card).reshape(-1))
    return float(np.max(np.abs(np.concatenate(got) - np.concatenate(expected))))


def validation_rows(metadata: ModelMetadata, cards: np.ndarray | None, splits: np.ndarray, seed: int = 0) -> np.ndarray:
    """Synthetic rows (feature_order columns) covering the model's input space, with no real applicant in them.

    Random applicants within the metadata bounds paired with every card; every feature at its bounds; and
    each split threshold probed at, and one float32/float64 step either side of, its value.
    """
    rng = np.random.default_rng(seed)
    low, high, boolean = _bounds(metadata)
    shape = (RANDOM_ROWS, len(low))
    sampled = np.where(boolean, rng.integers(0, 2, shape), rng.uniform(low, high, shape))
    at_bounds = np.repeat(sampled[:1], 2 * len(low) + 2, axis=0)
    at_bounds[0], at_bounds[1] = low, high
    for column in range(len(low)):
        at_bounds[2 + 2 * column, column], at_bounds[3 + 2 * column, column] = low[column], high[column]
    parts = [sampled, at_bounds, _split_probes(sampled, splits)]
    if cards is not None and len(cards):
        card_columns = [metadata.feature_order.index(name) for name in metadata.card_feature_names]
        applicants = np.concatenate([sampled[:APPLICANT_SAMPLES], at_bounds])
        paired = np.repeat(applicants, len(cards), axis=0)
        paired[:, card_columns] = np.tile(cards, (len(applicants), 1))
        parts.append(paired)
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
    """One row per split and probe value, other features from the sampled rows: where float32 rounding decides."""
    features = splits[:, 0].astype(np.intp)
    threshold = splits[:, 1]
    single = threshold.astype(np.float32)
    values = [
        threshold,
        np.nextafter(threshold, np.inf),
        np.nextafter(threshold, -np.inf),
        np.nextafter(single, np.float32(np.inf)).astype(np.float64),
        np.nextafter(single, np.float32(-np.inf)).astype(np.float64),
    ]
    probes = sampled[np.arange(len(values) * len(splits)) % len(sampled)]
    probes[np.arange(len(probes)), np.tile(features, len(values))] = np.concatenate(values)
    return probes
