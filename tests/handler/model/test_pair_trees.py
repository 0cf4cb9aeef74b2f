"""The two-halves ensemble gives scikit-learn's probabilities for every applicant x card pair, whatever the trees."""

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from handler.model import pair_trees
from handler.model.pair_trees import MAX_LEAVES, PairTreePredictor, in_tree_order
from handler.model.tree_onnx import UnsupportedModel, split_points

APPLICANT_COLUMNS = np.array([4, 0, 2, 5, 1])  # interleaved with the card columns, not a prefix
CARD_COLUMNS = np.array([3, 6, 7])


def catalogue(rng, n_cards=9):
    cards = np.column_stack([rng.integers(0, 2, n_cards), rng.uniform(0, 40, n_cards), rng.uniform(0, 1e5, n_cards)])
    cards.setflags(write=False)  # what Catalog.features is
    return cards


def applicants(rng, n):
    return np.column_stack(
        [
            rng.integers(0, 2, n),
            rng.uniform(18, 90, n),
            rng.uniform(0, 2e5, n),
            rng.integers(0, 6, n),
            rng.normal(size=n),
        ]
    )


def pairs_of(applicant_rows, cards):
    matrix = np.empty((len(applicant_rows) * len(cards), 8))
    matrix[:, APPLICANT_COLUMNS] = np.repeat(applicant_rows, len(cards), axis=0)
    matrix[:, CARD_COLUMNS] = np.tile(cards, (len(applicant_rows), 1))
    return matrix


def fitted(**options):
    rng = np.random.default_rng(7)
    pairs = pairs_of(applicants(rng, 120), catalogue(rng))
    labels = (pairs[:, 2] / 2e5 + pairs[:, 7] / 1e5 + pairs[:, 3] / 4 + rng.normal(0, 0.3, len(pairs)) > 1.1).astype(
        int
    )
    estimator = GradientBoostingClassifier(n_estimators=25, random_state=0, **options).fit(pairs, labels)
    return estimator, PairTreePredictor.build(estimator, APPLICANT_COLUMNS, CARD_COLUMNS)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"max_depth": 1}, id="stumps"),
        pytest.param({"max_depth": 3}, id="depth 3: a 256-entry table per tree"),
        pytest.param({"max_depth": 4}, id="depth 4: 16-bit masks"),
        pytest.param({"max_depth": 6, "max_leaf_nodes": 11}, id="unbalanced"),
        pytest.param({"max_depth": 6}, id="depth 6: 64-bit masks"),
        pytest.param({"min_samples_split": 10**6}, id="single-leaf trees"),
        pytest.param({"init": "zero"}, id="no init estimator"),
    ],
)
def test_every_pair_scores_as_sklearn_scores_it(options, monkeypatch):
    estimator, predictor = fitted(**options)
    monkeypatch.setattr(pair_trees, "VALUES_PER_CHUNK", 1000)  # 25 trees: a handful of applicants per chunk
    rng = np.random.default_rng(11)
    cards, people = catalogue(rng), applicants(rng, 300)
    rows = np.array([8, 0, 3, 4])
    expected = estimator.predict_proba(pairs_of(people, cards[rows]))[:, 1]
    odds = predictor.grid_odds(people, cards, rows)
    assert odds.shape == (300, 4) and odds.dtype == np.float64
    assert np.array_equal(odds.reshape(-1), expected)  # bit for bit, not within a tolerance
    assert np.array_equal(predictor.approval_odds(pairs_of(people, cards[rows])), expected)


def test_values_either_side_of_a_split_fall_as_sklearn_compares_them_in_float32():
    estimator, predictor = fitted(max_depth=3)
    rng = np.random.default_rng(3)
    base = pairs_of(applicants(rng, 1), catalogue(rng, 1))
    splits = split_points(estimator)
    for values in (
        splits[:, 1],
        np.nextafter(splits[:, 1], np.inf),
        np.nextafter(splits[:, 1].astype(np.float32), np.float32(np.inf)).astype(np.float64),
        np.nextafter(splits[:, 1].astype(np.float32), np.float32(-np.inf)).astype(np.float64),
    ):
        probes = np.repeat(base, len(splits), axis=0)
        probes[np.arange(len(splits)), splits[:, 0].astype(int)] = values
        expected = estimator.predict_proba(probes)[:, 1]
        assert np.array_equal(predictor.approval_odds(probes), expected)


def test_no_cards_or_no_applicants_score_nothing():
    _, predictor = fitted(max_depth=2)
    rng = np.random.default_rng(5)
    cards = catalogue(rng)
    assert predictor.grid_odds(applicants(rng, 3), cards, np.array([], dtype=np.intp)).shape == (3, 0)
    assert predictor.grid_odds(applicants(rng, 0), cards, np.arange(len(cards))).shape == (0, len(cards))


def test_the_cards_half_is_computed_once_per_catalogue_and_forgotten_in_time(monkeypatch):
    _, predictor = fitted(max_depth=3)
    rng = np.random.default_rng(9)
    person = applicants(rng, 1)
    computed = []
    exits = type(predictor.card_splits).exits

    def counted(splits, values):
        if splits is predictor.card_splits:
            computed.append(values)
        return exits(splits, values)

    monkeypatch.setattr(type(predictor.card_splits), "exits", counted)
    live = catalogue(rng)
    for rows in (np.arange(9), np.array([2]), np.arange(9)):
        predictor.grid_odds(person, live, rows)
    assert len(computed) == 1  # every request against the same catalogue reuses its half
    replaced = [catalogue(rng) for _ in range(pair_trees.CACHED_CATALOGS)]
    for cards in replaced:
        predictor.grid_odds(person, cards, np.arange(9))
    assert len(computed) == 1 + len(replaced) and len(predictor._card_halves) == pair_trees.CACHED_CATALOGS
    predictor.grid_odds(person, live, np.arange(9))  # the oldest was dropped to keep the cache bounded
    assert len(computed) == 2 + len(replaced)


def test_after_a_catalogue_swap_pairs_score_against_the_new_cards():
    estimator, predictor = fitted(max_depth=3)
    rng = np.random.default_rng(13)
    person = applicants(rng, 2)
    predictor.grid_odds(person, catalogue(rng), np.arange(9))
    new = catalogue(rng)  # same shape, other values
    odds = predictor.grid_odds(person, new, np.arange(9))
    expected = estimator.predict_proba(pairs_of(person, new))[:, 1]
    assert np.array_equal(odds.reshape(-1), expected)


def test_trees_with_more_leaves_than_a_mask_holds_are_refused():
    rng = np.random.default_rng(1)
    pairs = pairs_of(applicants(rng, 200), catalogue(rng))
    deep = GradientBoostingClassifier(n_estimators=2, max_depth=10, random_state=0)
    deep.fit(pairs, rng.integers(0, 2, len(pairs)))
    with pytest.raises(UnsupportedModel, match=f"{MAX_LEAVES}-leaf"):
        PairTreePredictor.build(deep, APPLICANT_COLUMNS, CARD_COLUMNS)


def test_a_catalogue_too_large_for_the_state_table_is_scored_pair_by_pair(monkeypatch):
    estimator, predictor = fitted(max_depth=3)
    rng = np.random.default_rng(17)
    people, cards = applicants(rng, 40), catalogue(rng)
    expected = estimator.predict_proba(pairs_of(people, cards))[:, 1]
    assert predictor._card_half(cards).sums is not None
    monkeypatch.setattr(pair_trees, "MAX_STATE_SUMS", len(predictor.states.trees) * len(cards) - 1)
    bigger = cards.copy()  # another catalogue, built under the lower limit
    assert predictor._card_half(bigger).sums is None
    for matrix in (cards, bigger):
        odds = predictor.grid_odds(people, matrix, np.arange(len(cards)))
        assert np.array_equal(odds.reshape(-1), expected)


@pytest.mark.parametrize("shape", [(40,), (40, 1), (40, 1, 1), (40, 1, 5), (40, 3, 1), (40, 2, 7), (40, 0, 3)])
def test_trees_are_summed_in_tree_order_whatever_the_shape(shape):
    # Values whose sum depends on the order of additions: any other order than sklearn's gives other bits.
    rng = np.random.default_rng(len(shape))
    values = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
    expected = np.zeros(shape[1:])
    for tree in values:
        expected = expected + tree
    assert np.array_equal(in_tree_order(values), expected)
    trees_contiguous = np.moveaxis(np.ascontiguousarray(np.moveaxis(values, 0, -1)), -1, 0)
    assert np.array_equal(in_tree_order(trees_contiguous), expected)


def test_a_hundred_thousand_pairs_equal_predict_proba_bit_for_bit():
    estimator, predictor = fitted(max_depth=3)
    rng = np.random.default_rng(23)
    cards, people = catalogue(rng, 40), applicants(rng, 2_500)
    pairs = pairs_of(people, cards)
    assert len(pairs) >= 100_000
    expected = estimator.predict_proba(pairs)[:, 1]
    assert np.array_equal(predictor.grid_odds(people, cards, np.arange(len(cards))).reshape(-1), expected)
    assert np.array_equal(predictor.approval_odds(pairs), expected)
    for person in people[:50]:  # one applicant per call: the real-time path
        odds = predictor.grid_odds(person[np.newaxis], cards, np.array([7]))  # and a single card
        assert np.array_equal(odds.reshape(-1), estimator.predict_proba(pairs_of(person[np.newaxis], cards[[7]]))[:, 1])
