"""Exact path-dependent TreeSHAP (Lundberg et al. 2018) of every applicant x card pair, on the raw log-odds margin.

Each root-to-leaf path of a tree is one term of the model (as in GPUTreeShap, Mitchell et al. 2022): its distinct
features are its "elements", each with the share of training cover that follows the path through that feature's
splits (`zero`) and whether the pair satisfies all of that feature's splits on the path (`one`, 0 or 1). The path
contributes to element i

    value x (one_i - zero_i) x sum over subsets S of the other elements with one = 1 of
        |S|! (m - 1 - |S|)! / m!  x  product of zero over the other elements not in S

(m = the path's element count), which is what Algorithm 2's EXTEND/UNWIND compute; the polynomial is built here by
a division-free recurrence. Summed over every path, base value + contributions = the raw margin exactly (in real
arithmetic; to ~1e-15 in floating point).

Two engines, both exact:
- "tables" (trees of at most TABLE_SPLITS splits, e.g. depth 3): a tree's contributions depend only on which side
  of each of its splits the pair goes, so each tree gets a table (2^splits x its features). The split directions
  split into an applicant half (per request) and a card half (per catalogue, cached, as in pair_trees), so a pair
  costs one OR, one table row per tree and a sum.
- "paths" (anything else): every path evaluated for every pair, vectorised over pairs and paths; a path of m
  distinct features has a table of its contributions for the 2^m combinations of its elements holding (within a
  32 MB budget), else the formula is computed per pair (figures: docs/performance.md, "Reason codes").
Splits compare float32(x) <= threshold, as scikit-learn's trees do.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

LEAF = -1
TABLE_SPLITS = 10  # a tree with up to 10 splits: a 1,024-row table
MAX_TABLE_VALUES = 1 << 23  # float64 entries of all trees' tables (64 MB); larger ensembles use the paths engine
VALUES_PER_CHUNK = 1 << 18  # pairs x table entries (or path elements) per chunk: temporaries stay in cache
MAX_PATH_TABLE_VALUES = 1 << 22  # float64 entries (32 MB) of the paths engine's per-path tables; beyond, the formula
CACHED_CATALOGS = 4  # card halves kept: the live catalogue and the few it replaced (in-flight requests)


@dataclass(frozen=True)
class _Paths:
    """Every root-to-leaf path with exactly m distinct features (P paths)."""

    features: np.ndarray  # intp (P x m): estimator column of each element
    low: np.ndarray  # float64 (P x m): the element holds when low < float32(x) <= high
    high: np.ndarray
    zero: np.ndarray  # float64 (P x m): share of the node's cover that follows the path through the element's splits
    value: np.ndarray  # float64 (P): learning rate x leaf value
    tree: np.ndarray  # intp (P)
    bit_mask: np.ndarray  # int64 (P x m): the element's split bits in its tree (node ordinal), when it has few splits
    bit_value: np.ndarray  # int64 (P x m): the directions those bits must have (1 = right)
    # With few elements: every path's contributions for each of the 2^m combinations of its elements holding
    # (bit e: element e holds), so a pair costs a look-up instead of the formula. None: the formula per pair.
    table: np.ndarray | None = None  # float64 (P x 2^m x m)

    def tabulated(self) -> _Paths:
        m = self.features.shape[1]
        one = ((np.arange(1 << m)[:, None] >> np.arange(m)) & 1).astype(np.float64)  # (2^m x m)
        table = np.empty((len(self.value), 1 << m, m), dtype=np.float64)
        step = max(1, VALUES_PER_CHUNK // (one.size or 1))
        for start in range(0, len(self.value), step):
            part = slice(start, start + step)
            zero, count = self.zero[part], len(self.value[part])
            weights = shapley_weights(zero, np.broadcast_to(one[:, None, :], (len(one), count, m)), self.value[part])
            table[part] = weights.transpose(1, 0, 2)
        return dataclasses.replace(self, table=table)

    def contributions(self, values: np.ndarray) -> np.ndarray:
        """(rows x P x m) contributions of rows whose element features are `values` (rows x P x m, float32-exact)."""
        one = (values > self.low) & (values <= self.high)
        if self.table is None:
            return shapley_weights(self.zero, one.astype(np.float64), self.value)
        codes = (one << np.arange(one.shape[-1])).sum(axis=-1)  # (rows x P)
        return self.table[np.arange(len(self.value)), codes]


def shapley_weights(zero: np.ndarray, one: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Each path element's contribution: zero (P x m), one (... x P x m, 0/1), value (P) → (... x P x m)."""
    m = zero.shape[-1]
    weights = np.array([math.factorial(k) * math.factorial(m - 1 - k) / math.factorial(m) for k in range(m)])
    out = np.empty(one.shape, dtype=np.float64)
    for i in range(m):
        poly = np.zeros(one.shape, dtype=np.float64)  # poly[..., k]: subsets S of size k (the last slot unused)
        poly[..., 0] = 1.0
        for j in range(m):
            if j == i:
                continue
            shifted = poly[..., :-1] * one[..., j : j + 1]  # j in S: needs one_j = 1, factor 1
            poly *= zero[:, j : j + 1]  # j not in S: factor zero_j
            poly[..., 1:] += shifted
        out[..., i] = (poly @ weights) * (one[..., i] - zero[:, i]) * value
    return out


def decompose(estimator: Any) -> tuple[list[_Paths], float, list[int]]:
    """(paths grouped by element count, base value = expected raw margin, split count of each tree)."""
    rate = float(estimator.learning_rate)
    init = float(estimator._raw_predict_init(np.zeros((1, estimator.n_features_in_)))[0, 0])
    groups: dict[int, list[tuple[Any, ...]]] = {}
    splits: list[int] = []
    base_terms: list[float] = []
    for index, (regressor,) in enumerate(estimator.estimators_):
        tree = regressor.tree_
        internal = np.flatnonzero(tree.children_left != LEAF)
        ordinal = {int(node): bit for bit, node in enumerate(internal)}
        splits.append(len(internal))
        cover = tree.weighted_n_node_samples
        # (node, {feature: [low, high, zero, bit_mask, bit_value]})
        stack: list[tuple[int, dict[int, list[Any]]]] = [(0, {})]
        while stack:
            node, elements = stack.pop()
            left, right = int(tree.children_left[node]), int(tree.children_right[node])
            if left == LEAF:
                value = rate * float(tree.value[node, 0, 0])
                groups.setdefault(len(elements), []).append((index, value, elements))
                base_terms.append(value * math.prod(element[2] for element in elements.values()))
                continue
            feature, threshold = int(tree.feature[node]), float(tree.threshold[node])
            bit = 1 << ordinal[node] if len(internal) < 63 else 0
            for child, goes_right in ((left, False), (right, True)):
                low, high, zero, mask, want = elements.get(feature, (-np.inf, np.inf, 1.0, 0, 0))
                if goes_right:
                    low = max(low, threshold)
                else:
                    high = min(high, threshold)
                zero = zero * float(cover[child]) / float(cover[node])
                stack.append(
                    (child, {**elements, feature: [low, high, zero, mask | bit, want | (bit if goes_right else 0)]})
                )
    paths = [_paths(m, entries) for m, entries in sorted(groups.items()) if m > 0]
    return paths, init + math.fsum(base_terms), splits


def _paths(m: int, entries: list[tuple[int, float, dict[int, list[Any]]]]) -> _Paths:
    rows = [sorted(elements.items()) for _, _, elements in entries]
    column = lambda k: np.array([[element[1][k] for element in row] for row in rows])  # noqa: E731
    return _Paths(
        features=np.array([[feature for feature, _ in row] for row in rows], dtype=np.intp).reshape(-1, m),
        low=column(0).astype(np.float64).reshape(-1, m),
        high=column(1).astype(np.float64).reshape(-1, m),
        zero=column(2).astype(np.float64).reshape(-1, m),
        value=np.array([value for _, value, _ in entries], dtype=np.float64),
        tree=np.array([tree for tree, _, _ in entries], dtype=np.intp),
        bit_mask=column(3).astype(np.int64).reshape(-1, m),
        bit_value=column(4).astype(np.int64).reshape(-1, m),
    )


def planned_kind(splits: list[int], width: int) -> str:
    """The engine for trees of these split counts: "tables" when every tree's table is small, else "paths"."""
    most = max(1, *splits)
    small = most <= TABLE_SPLITS and len(splits) * (1 << most) * width <= MAX_TABLE_VALUES
    return "tables" if small else "paths"


def describe(kind: str) -> str:
    how = "every path evaluated per pair (slower)" if kind == "paths" else "one table row per tree"
    return f"exact path-dependent TreeSHAP, {how}"


@dataclass(frozen=True)
class _Tests:
    """One half's split tests, grouped by tree: bit `weights` set when float32(x) > threshold. Every tree has a
    sentinel entry first that never fires, so no tree is empty."""

    columns: np.ndarray  # intp, column of the half's feature matrix
    thresholds: np.ndarray  # float64
    weights: np.ndarray  # int64, 1 << the split's ordinal in its tree
    tree_starts: np.ndarray  # intp

    @classmethod
    def of(cls, entries: list[tuple[int, int, float, int]]) -> _Tests:
        entries.sort(key=lambda entry: entry[0])  # stable: each tree's sentinel stays first
        trees = np.array([entry[0] for entry in entries], dtype=np.intp)
        return cls(
            columns=np.array([entry[1] for entry in entries], dtype=np.intp),
            thresholds=np.array([entry[2] for entry in entries], dtype=np.float64),
            weights=np.array([entry[3] for entry in entries], dtype=np.int64),
            tree_starts=np.flatnonzero(np.r_[True, trees[1:] != trees[:-1]]),
        )

    def codes(self, values: np.ndarray) -> np.ndarray:
        """(rows x trees): the directions of the half's splits, as bits."""
        right = values.astype(np.float32)[:, self.columns] > self.thresholds
        return np.add.reduceat(np.where(right, self.weights, 0), self.tree_starts, axis=1)


@dataclass
class _Tables:
    """The tables engine: row offsets[t] + code holds tree t's contributions when its splits go `code`'s ways, and
    the split tests that give a pair's code from its applicant half (per request) and card half (per catalogue)."""

    rows: np.ndarray  # float64 (trees * 2^max_splits x applicant features + 1)
    offsets: np.ndarray  # intp, per tree
    applicant_tests: _Tests
    card_tests: _Tests
    _card_codes: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def grid(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> np.ndarray:
        # The two halves' split bits are disjoint, so OR is addition; trees first: summing the first axis is fast.
        codes = self._card_half(cards)[:, np.newaxis, rows] + self.applicant_tests.codes(applicants).T[:, :, np.newaxis]
        return self.rows.take(codes, axis=0).sum(axis=0)  # (trees x applicants x cards x width) summed over trees

    def _card_half(self, cards: np.ndarray) -> np.ndarray:
        """(trees x cards): each tree's table offset plus the card's split bits, computed once per catalogue."""
        cached = self._card_codes.get(id(cards))
        if cached is None or cached[0] is not cards:
            if len(self._card_codes) >= CACHED_CATALOGS:
                self._card_codes.pop(next(iter(self._card_codes)))
            codes = np.ascontiguousarray((self.card_tests.codes(cards) + self.offsets).T)
            cached = self._card_codes[id(cards)] = (cards, codes)
        return cached[1]


@dataclass
class TreeExplainer:
    """Contributions to the raw margin of every applicant x card pair of a binary log-loss
    GradientBoostingClassifier: one per applicant feature (metadata order), then one for all card features together
    (the applicant cannot change the card; it closes the sum). `base` + the sum of a pair's row = its raw margin."""

    base: float
    n_features: int
    applicant_columns: np.ndarray  # position of each applicant feature in the estimator's input
    card_columns: np.ndarray
    paths: list[_Paths]
    tables: _Tables | None = None  # None: the paths engine

    @classmethod
    def build(cls, estimator: Any, applicant_columns: np.ndarray, card_columns: np.ndarray) -> TreeExplainer:
        paths, base, splits = decompose(estimator)
        budget = MAX_PATH_TABLE_VALUES
        for position, group in enumerate(paths):  # fewest elements first: the cheapest tables
            size = group.features.size << group.features.shape[1]
            if size <= budget:
                paths[position], budget = group.tabulated(), budget - size
        explainer = cls(
            base=base,
            n_features=int(estimator.n_features_in_),
            applicant_columns=np.asarray(applicant_columns, dtype=np.intp),
            card_columns=np.asarray(card_columns, dtype=np.intp),
            paths=paths,
        )
        if planned_kind(splits, explainer.width) == "tables":
            explainer.tables = explainer._tabulate(estimator, max(1, *splits))
        return explainer

    @property
    def kind(self) -> str:
        return "paths" if self.tables is None else "tables"

    @property
    def width(self) -> int:
        """Columns of a pair's contributions: the applicant features, then the card features' sum."""
        return len(self.applicant_columns) + 1

    def describe(self) -> str:
        return describe(self.kind)

    def grid(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(applicants x len(rows) x width) contributions: each applicant (applicant features, metadata order) with
        each selected row of `cards`, a catalogue's read-only card feature matrix (card half cached per catalogue)."""
        out = np.empty((len(applicants), len(rows), self.width), dtype=np.float64)
        tables = self.tables
        per_pair = sum(p.features.size for p in self.paths) if tables is None else len(tables.offsets) * self.width
        step = max(1, VALUES_PER_CHUNK // (max(1, per_pair) * max(1, len(rows))))
        for start in range(0, len(applicants), step):
            block = applicants[start : start + step]
            if tables is not None:
                out[start : start + step] = tables.grid(block, cards, rows)
            else:
                full = self.rows(self._pairs(block, cards[rows]))
                part = out[start : start + step].reshape(len(full), self.width)
                part[:, :-1] = full[:, self.applicant_columns]
                part[:, -1] = full[:, self.card_columns].sum(axis=1)
        return out

    def rows(self, matrix: np.ndarray) -> np.ndarray:
        """(rows x n_features) contributions of full input rows (estimator column order), by the paths engine."""
        x = matrix.astype(np.float32).astype(np.float64)
        out = np.zeros((len(matrix), self.n_features), dtype=np.float64)
        for group in self.paths:
            step = max(1, VALUES_PER_CHUNK // max(1, group.features.size))
            for start in range(0, len(x), step):
                values = x[start : start + step][:, group.features]  # (rows x P x m)
                contributions = group.contributions(values).reshape(len(values), -1)
                _scatter(out[start : start + step], group.features.reshape(-1), contributions)
        return out

    def _pairs(self, applicants: np.ndarray, cards: np.ndarray) -> np.ndarray:
        pairs = np.empty((len(applicants) * len(cards), self.n_features), dtype=np.float64)
        pairs[:, self.applicant_columns] = np.repeat(applicants, len(cards), axis=0)
        pairs[:, self.card_columns] = np.tile(cards, (len(applicants), 1))
        return pairs

    def _tabulate(self, estimator: Any, most: int) -> _Tables:
        """Each tree's contributions for every combination of its split directions (bit b: its b-th split goes
        right), and the split tests that give a pair's combination from its applicant and card halves."""
        trees = len(estimator.estimators_)
        patterns = np.arange(1 << most, dtype=np.int64)
        column_of = np.full(self.n_features, len(self.applicant_columns), dtype=np.intp)  # card features: last
        column_of[self.applicant_columns] = np.arange(len(self.applicant_columns))
        tables = np.zeros((trees, 1 << most, self.width), dtype=np.float64)
        for group in self.paths:
            # (patterns x P x m): an element holds when its splits' bits in the pattern have the path's directions.
            one = ((patterns[:, None, None] & group.bit_mask) == group.bit_value).astype(np.float64)
            contributions = shapley_weights(group.zero, one, group.value)
            for element in range(group.features.shape[1]):
                where = (group.tree[None, :], patterns[:, None], column_of[group.features[None, :, element]])
                np.add.at(tables, where, contributions[:, :, element])
        halves = {int(column): (0, position) for position, column in enumerate(self.applicant_columns)}
        halves |= {int(column): (1, position) for position, column in enumerate(self.card_columns)}
        entries: tuple[list[tuple[int, int, float, int]], ...] = ([], [])
        for index, (regressor,) in enumerate(estimator.estimators_):
            tree = regressor.tree_
            for sentinels in entries:
                sentinels.append((index, 0, np.inf, 0))
            for bit, node in enumerate(np.flatnonzero(tree.children_left != LEAF)):
                half, column = halves[int(tree.feature[node])]
                entries[half].append((index, column, float(tree.threshold[node]), 1 << bit))
        offsets = np.arange(trees, dtype=np.intp) << most
        return _Tables(tables.reshape(-1, self.width), offsets, _Tests.of(entries[0]), _Tests.of(entries[1]))


def _scatter(out: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
    """out[r, columns[k]] += values[r, k] for every k (columns repeat)."""
    for column in np.unique(columns):
        out[:, column] += values[:, columns == column].sum(axis=1)
