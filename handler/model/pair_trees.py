"""The gradient-boosted ensemble evaluated in two halves: the applicant's splits per request, the cards' once.

Every request scores one applicant against the same catalogue cards, so each tree's comparisons on card
features give the same answers request after request. Following QuickScorer (Lucchese et al., SIGIR 2015),
a tree's leaves are numbered left to right and each split that answers "no" (x > threshold) rules out the
leaves of its left subtree: a bitmask. ANDing the masks of every "no" split leaves the exit leaf as the
lowest set bit. The AND splits cleanly into an applicant half (computed per request) and a card half
(computed once per catalogue and cached), so scoring a pair costs one AND and one table look-up per tree.

With trees of up to 8 leaves (depth 3), one step more: the exit masks a tree's applicant splits can produce
are few (its "states"), so each catalogue also gets a table of the leaf value every (state, card) pair
reaches, and an applicant's raw scores for all cards are one table row per tree, summed.

On the demo model (300 trees of depth 3) this is the fastest engine at every call size: figures in
docs/performance.md.

Exactness, bit for bit: scikit-learn compares float32(x) <= threshold, and so does this. Its predict_stages starts
each row's raw score at the init estimator's log-odds and adds learning_rate * leaf value tree by tree in float64;
here the first tree's leaf values hold (base + learning_rate * value), the very first of those additions, and the
other trees are added in tree order (`in_tree_order`), so every rounding step is sklearn's; then the same expit.
Parity is still checked at load (predictor.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from config.settings import PAIR_TREES
from handler.model.tree_onnx import LEAF, UnsupportedModel, base_score, check_supported

MAX_LEAVES = 64  # leaf masks are at most uint64
TABLE_LEAVES = 8  # up to 8 leaves (depth 3) a 256-entry table per tree maps a mask straight to its leaf value
# Pairs x trees per chunk: the temporaries stay in cache (the sizes measured fastest: docs/performance.md), and
# an ensemble of thousands of trees gets proportionally fewer pairs per chunk rather than larger temporaries.
VALUES_PER_CHUNK = 2048 * 300
CACHED_CATALOGS = 4  # card halves kept: the live catalogue and the few it replaced (in-flight requests)
MAX_STATE_SUMS = 1 << 22  # float64 entries (32 MB) of a catalogue's state table; beyond it, AND per pair instead


@dataclass(frozen=True)
class _Splits:
    """One half's split nodes, grouped by tree: each tree has at least a sentinel entry that never says "no"."""

    features: np.ndarray  # intp, column of that half's feature matrix
    thresholds: np.ndarray  # float64
    masks: np.ndarray  # leaves still possible when the split says "no"
    tree_starts: np.ndarray  # intp, where each tree's entries begin

    def exits(self, values: np.ndarray) -> np.ndarray:
        """(rows x trees) AND of the masks of every split answering "no" for each row of `values`."""
        no = values.astype(np.float32)[:, self.features] > self.thresholds
        masks = np.where(no, self.masks, np.iinfo(self.masks.dtype).max)
        return np.bitwise_and.reduceat(masks, self.tree_starts, axis=1)


@dataclass(frozen=True)
class _States:
    """With 8-leaf masks, every exit mask a tree's applicant splits can produce ("states"), numbered across trees."""

    trees: np.ndarray  # intp, the tree of each state
    masks: np.ndarray  # uint8, its mask
    of: np.ndarray  # intp (trees * 256): the number of tree t's state with mask m at t*256 + m


@dataclass(frozen=True)
class _CardHalf:
    """What a catalogue's cards contribute, computed once per catalogue."""

    exits: np.ndarray  # (cards x trees) AND of the masks of every card split answering "no"
    # With 8-leaf masks: for each applicant state (a tree's applicant-side exit mask, see `states`), the value of
    # the leaf each card reaches; an applicant's raw score is then one row per tree summed. None: too large.
    sums: np.ndarray | None  # float64 (states x cards)


@dataclass
class PairTreePredictor:
    """Approval odds of every applicant x card pair of a binary log-loss GradientBoostingClassifier."""

    applicant_splits: _Splits
    card_splits: _Splits
    applicant_columns: np.ndarray  # position of each applicant feature in the estimator's input
    card_columns: np.ndarray
    leaf_values: np.ndarray  # float64, flat: tree t's entries at offsets[t]; learning rate applied
    offsets: np.ndarray  # intp, per tree
    by_mask: bool  # leaf_values holds 256 entries per tree, indexed by the whole exit mask; else by leaf number
    states: _States | None = None  # with 8-leaf masks
    kind: str = PAIR_TREES
    _card_halves: dict[int, tuple[np.ndarray, _CardHalf]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, estimator: Any, applicant_columns: np.ndarray, card_columns: np.ndarray) -> PairTreePredictor:
        check_supported(estimator)
        trees = [tree.tree_ for (tree,) in estimator.estimators_]
        leaves = max(tree.n_leaves for tree in trees)
        if leaves > MAX_LEAVES:
            raise UnsupportedModel(f"trees with {leaves} leaves exceed the {MAX_LEAVES}-leaf masks")
        mask_type = next(np.dtype(f"uint{bits}") for bits in (8, 16, 32, 64) if leaves <= bits)
        halves = {int(column): (0, position) for position, column in enumerate(applicant_columns)}
        halves |= {int(column): (1, position) for position, column in enumerate(card_columns)}
        entries: tuple[list[tuple[int, int, float, int]], ...] = ([], [])  # (tree, column, threshold, mask)
        leaf_values = np.zeros((len(trees), leaves), dtype=np.float64)
        for index, tree in enumerate(trees):
            for side in entries:
                side.append((index, 0, np.inf, (1 << leaves) - 1))  # sentinel: x > inf is never true
            first, last, order = _leaf_spans(tree)
            leaf_values[index, : len(order)] = estimator.learning_rate * tree.value[order, 0, 0]
            for node in np.flatnonzero(tree.children_left != LEAF):
                half, column = halves[int(tree.feature[node])]
                left = tree.children_left[node]
                ruled_out = ((1 << int(last[left] + 1)) - 1) ^ ((1 << int(first[left])) - 1)
                entries[half].append((index, column, float(tree.threshold[node]), ((1 << leaves) - 1) ^ ruled_out))
        # sklearn's first step, out = base; out += learning_rate * value: rounded exactly as it rounds it.
        leaf_values[0] = base_score(estimator) + leaf_values[0]
        by_mask = leaves <= TABLE_LEAVES
        table = np.ascontiguousarray(_leaf_table(leaf_values) if by_mask else leaf_values)
        applicant_splits = _splits(entries[0], mask_type)
        return cls(
            applicant_splits=applicant_splits,
            card_splits=_splits(entries[1], mask_type),
            applicant_columns=np.asarray(applicant_columns, dtype=np.intp),
            card_columns=np.asarray(card_columns, dtype=np.intp),
            leaf_values=table.reshape(-1),
            offsets=np.arange(0, table.size, table.shape[1], dtype=np.intp),
            by_mask=by_mask,
            states=_applicant_states(applicant_splits) if by_mask else None,
        )

    def grid_odds(self, applicants: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(applicants x rows) odds: each applicant (applicant features) with each selected row of `cards`, a
        catalogue's read-only card feature matrix (its card half is computed once and cached)."""
        half = self._card_half(cards)
        odds = np.empty((len(applicants), len(rows)), dtype=np.float64)
        step = self._pairs_per_chunk(len(cards) if half.sums is not None else len(rows))
        card_exits = half.exits[rows]
        for start in range(0, len(applicants), step):
            exits = self.applicant_splits.exits(applicants[start : start + step])
            if half.sums is not None and self.states is not None:
                states = self.states.of[exits + self.offsets]  # (applicants x trees)
                odds[start : start + step] = expit(in_tree_order(half.sums.take(states.T, axis=0))[:, rows])
            else:
                odds[start : start + step] = self._odds(exits[:, np.newaxis, :] & card_exits[np.newaxis, :, :])
        return odds

    def approval_odds(self, pairs: np.ndarray) -> np.ndarray:
        """Odds of each row of a full feature matrix (estimator column order), as scikit-learn takes it."""
        odds = np.empty(len(pairs), dtype=np.float64)
        step = self._pairs_per_chunk(1)
        for start in range(0, len(pairs), step):
            chunk = pairs[start : start + step]
            applicant = self.applicant_splits.exits(chunk[:, self.applicant_columns])
            odds[start : start + step] = self._odds(applicant & self.card_splits.exits(chunk[:, self.card_columns]))
        return odds

    def _pairs_per_chunk(self, width: int) -> int:
        """Rows per chunk when each row holds `width` pairs."""
        return max(1, VALUES_PER_CHUNK // (len(self.offsets) * max(1, width)))

    def _odds(self, exits: np.ndarray) -> np.ndarray:
        """Exit masks (... x trees) → probabilities (...)."""
        exits = np.ascontiguousarray(np.moveaxis(exits, -1, 0))  # trees first (outer), summed in tree order
        offsets = self.offsets.reshape(-1, *[1] * (exits.ndim - 1))
        if self.by_mask:
            index = exits + offsets
        else:
            lowest = exits & (~exits + exits.dtype.type(1))  # the lowest set bit: the exit leaf
            index = np.log2(lowest.astype(np.float64)).astype(np.intp) + offsets  # exact for powers of two
        return expit(in_tree_order(self.leaf_values[index]))

    def _card_half(self, cards: np.ndarray) -> _CardHalf:
        cached = self._card_halves.get(id(cards))
        if cached is None or cached[0] is not cards:
            if len(self._card_halves) >= CACHED_CATALOGS:
                self._card_halves.pop(next(iter(self._card_halves)))
            cached = self._card_halves[id(cards)] = (cards, self._new_card_half(cards))
        return cached[1]

    def _new_card_half(self, cards: np.ndarray) -> _CardHalf:
        exits = self.card_splits.exits(cards)
        states = self.states
        if states is None or len(states.trees) * len(cards) > MAX_STATE_SUMS:
            return _CardHalf(exits, None)
        # The leaf each (applicant state, card) pair exits at, as an index into the 256-entry-per-tree table.
        index = self.offsets[states.trees, np.newaxis] + (states.masks[:, np.newaxis] & exits[:, states.trees].T)
        return _CardHalf(exits, self.leaf_values[index])


def in_tree_order(values: np.ndarray) -> np.ndarray:
    """The sum over axis 0 (trees) in tree order, ((t0 + t1) + t2) + ..., as sklearn's predict_stages adds trees.

    numpy reduces a leading axis that way, element by element across the other axes, when those are the contiguous
    ones; but it sums a contiguous or lone reduced axis pairwise (other roundings), so the trees axis is made the
    outer one in memory, and a single value is accumulated.
    """
    values = np.ascontiguousarray(values)
    if values[0].size > 1:
        return np.add.reduce(values, axis=0)
    return np.add.accumulate(values, axis=0)[-1]


def _applicant_states(splits: _Splits) -> _States:
    """Every AND of a subset of each tree's applicant-split masks: the exit masks one applicant can produce."""
    ends = [*splits.tree_starts[1:].tolist(), len(splits.masks)]
    trees: list[int] = []
    masks: list[int] = []
    state_of = np.zeros((len(ends), 1 << 8), dtype=np.intp)
    for tree, (start, end) in enumerate(zip(splits.tree_starts.tolist(), ends, strict=True)):
        reachable = {0xFF}  # no split says "no"; the tree's sentinel entry is that mask too
        for mask in splits.masks[start:end].tolist():
            reachable |= {state & mask for state in reachable}
        for state in sorted(reachable):
            state_of[tree, state] = len(masks)
            trees.append(tree)
            masks.append(state)
    return _States(np.array(trees, dtype=np.intp), np.array(masks, dtype=np.uint8), state_of.reshape(-1))


def _leaf_spans(tree: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node, the first and last leaf number below it (leaves numbered left to right), and the leaves' node
    ids in that order."""
    first = np.zeros(tree.node_count, dtype=np.int64)
    last = np.zeros(tree.node_count, dtype=np.int64)
    order: list[int] = []
    stack = [(0, False)]
    while stack:  # iterative post-order: deep trees must not hit the recursion limit
        node, children_done = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == LEAF:
            first[node] = last[node] = len(order)
            order.append(node)
        elif children_done:
            first[node], last[node] = first[left], last[right]
        else:
            stack += [(node, True), (right, False), (left, False)]
    return first, last, np.array(order, dtype=np.intp)


def _splits(entries: list[tuple[int, int, float, int]], mask_type: np.dtype) -> _Splits:
    entries.sort(key=lambda entry: entry[0])  # stable: each tree's sentinel stays first
    trees = np.array([entry[0] for entry in entries], dtype=np.intp)
    return _Splits(
        features=np.array([entry[1] for entry in entries], dtype=np.intp),
        thresholds=np.array([entry[2] for entry in entries], dtype=np.float64),
        masks=np.array([entry[3] for entry in entries], dtype=mask_type),
        tree_starts=np.flatnonzero(np.r_[True, trees[1:] != trees[:-1]]),
    )


def _leaf_table(leaf_values: np.ndarray) -> np.ndarray:
    """(trees x 256): the value of the leaf each possible 8-bit exit mask selects (its lowest set bit)."""
    masks = np.arange(1 << 8)
    lowest = np.log2(np.maximum(masks & -masks, 1)).astype(np.intp)  # mask 0 never occurs: a leaf always remains
    return leaf_values[:, np.minimum(lowest, leaf_values.shape[1] - 1)]
