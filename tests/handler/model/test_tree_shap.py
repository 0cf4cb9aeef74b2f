"""Exact TreeSHAP: every pair's contributions equal shap's TreeExplainer (path-dependent) to 1e-9, and base value +
contributions = the raw margin to 1e-9, on >= 10,000 applicant x card pairs of three models: the demo model (depth
3: per-tree tables), a deeper one (depth 5: every path per pair) and one of many trees (1,000: tables)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import shap
from sklearn.ensemble import GradientBoostingClassifier

from handler.model import tree_shap
from handler.model.artifact import Artifact
from handler.model.tree_shap import TreeExplainer, shapley_weights
from tests.support.artifacts import pair_rows

APPLICANTS = 250  # x 41 demo cards = 10,250 pairs
TOLERANCE = 1e-9


def synthetic_applicants(n: int, seed: int) -> np.ndarray:
    """Demo-schema applicants (metadata order) spread over realistic values, including the bounds."""
    rng = np.random.default_rng(seed)
    columns = [
        rng.poisson(0.6, n),  # derogatory_reports
        rng.integers(18, 101, n),  # age
        np.round(rng.lognormal(np.log(50_000), 0.8, n), -2),  # annual_income
        rng.integers(0, 2, n),  # home_owner
        rng.integers(0, 2, n),  # self_employed
        rng.poisson(1.0, n),  # dependents
        rng.integers(0, 400, n),  # months_at_address
        rng.poisson(2.0, n),  # major_cards
        rng.poisson(6.0, n),  # active_accounts
    ]
    return np.column_stack(columns).astype(np.float64)


def trained(artifact: Artifact, **hyperparameters: int | float) -> GradientBoostingClassifier:
    """A GBM on synthetic demo-schema pairs (applicant x catalogue card), labelled by a noisy logistic rule."""
    rng = np.random.default_rng(3)
    applicants = synthetic_applicants(600, seed=4)
    cards = artifact.bundled_catalog.features
    pairs = pair_rows(artifact, applicants, cards)
    income, tier, derogatory = pairs[:, 2], pairs[:, artifact.metadata.feature_order.index("credit_tier")], pairs[:, 0]
    logit = np.log(income / 40_000 + 0.1) - 0.8 * (tier - 3) - 0.7 * derogatory + rng.normal(0, 1, len(pairs))
    keep = rng.random(len(pairs)) < 0.25  # 6,150 pairs: quick to fit
    estimator = GradientBoostingClassifier(random_state=0, **hyperparameters)
    return estimator.fit(pairs[keep], (logit[keep] > 0).astype(int))


@pytest.fixture(scope="module")
def models(artifact: Artifact) -> dict[str, GradientBoostingClassifier]:
    return {
        "demo": artifact.estimator,
        "deep": trained(artifact, n_estimators=40, max_depth=5, learning_rate=0.2, min_samples_leaf=5),
        "many-trees": trained(artifact, n_estimators=1000, max_depth=2, learning_rate=0.03, subsample=0.5),
    }


@pytest.mark.parametrize(("model", "kind"), [("demo", "tables"), ("deep", "paths"), ("many-trees", "tables")])
def test_contributions_equal_shap_and_add_up_to_the_margin_on_10000_pairs(models, artifact, model, kind):
    estimator = models[model]
    explainer = TreeExplainer.build(estimator, artifact.applicant_columns, artifact.card_columns)
    assert explainer.kind == kind
    catalog = artifact.bundled_catalog
    applicants = synthetic_applicants(APPLICANTS, seed=11)
    rows = np.arange(len(catalog))
    got = explainer.grid(applicants, catalog.features, rows).reshape(-1, explainer.width)
    pairs = pair_rows(artifact, applicants, catalog.features)
    assert len(pairs) >= 10_000

    reference = shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")
    expected = reference.shap_values(pairs)
    assert np.abs(got[:, :-1] - expected[:, artifact.applicant_columns]).max() <= TOLERANCE
    assert np.abs(got[:, -1] - expected[:, artifact.card_columns].sum(axis=1)).max() <= TOLERANCE
    assert explainer.base == pytest.approx(float(np.ravel(reference.expected_value)[0]), abs=TOLERANCE)

    margin = estimator.decision_function(pairs)
    assert np.abs(explainer.base + got.sum(axis=1) - margin).max() <= TOLERANCE


def test_the_paths_engine_gives_every_feature_and_agrees_with_the_tables(artifact):
    explainer = TreeExplainer.build(artifact.estimator, artifact.applicant_columns, artifact.card_columns)
    applicants = synthetic_applicants(20, seed=5)
    cards = artifact.bundled_catalog.features
    tabulated = explainer.grid(applicants, cards, np.arange(len(cards))).reshape(-1, explainer.width)
    full = explainer.rows(pair_rows(artifact, applicants, cards))
    assert np.abs(full[:, artifact.applicant_columns] - tabulated[:, :-1]).max() <= TOLERANCE
    assert np.abs(full[:, artifact.card_columns].sum(axis=1) - tabulated[:, -1]).max() <= TOLERANCE


def test_a_card_subset_and_the_cached_card_half_give_the_same_contributions(artifact):
    explainer = TreeExplainer.build(artifact.estimator, artifact.applicant_columns, artifact.card_columns)
    applicants = synthetic_applicants(3, seed=6)
    cards = artifact.bundled_catalog.features
    every = explainer.grid(applicants, cards, np.arange(len(cards)))
    subset = np.array([7, 2, 30])
    assert np.array_equal(explainer.grid(applicants, cards, subset), every[:, subset])


def test_a_split_exactly_at_the_threshold_goes_left_as_in_scikit_learn(artifact):
    """Values at a threshold and one float32 step above it: the pair's margin still adds up."""
    explainer = TreeExplainer.build(artifact.estimator, artifact.applicant_columns, artifact.card_columns)
    tree = artifact.estimator.estimators_[0, 0].tree_
    column, threshold = int(tree.feature[0]), float(tree.threshold[0])
    pairs = pair_rows(artifact, synthetic_applicants(2, seed=8), artifact.bundled_catalog.features[:2])
    probes = np.repeat(pairs, 2, axis=0)
    probes[0::2, column] = threshold
    probes[1::2, column] = float(np.nextafter(np.float32(threshold), np.float32(np.inf)))
    contributions = explainer.rows(probes)
    margin = artifact.estimator.decision_function(probes)
    assert np.abs(explainer.base + contributions.sum(axis=1) - margin).max() <= TOLERANCE


def test_shapley_weights_of_one_path_by_brute_force():
    """Three distinct features on a path: each contribution is the Shapley value of v(S) = value x prod over the
    path's features (one if in S, else zero), computed over all subsets."""
    zero = np.array([[0.3, 0.6, 0.45]])
    value = np.array([2.5])
    for ones in np.ndindex(2, 2, 2):
        one = np.array(ones, dtype=float)[np.newaxis, np.newaxis, :]
        got = shapley_weights(zero, one, value)[0, 0]

        def v(subset: tuple[int, ...], ones: tuple[int, ...] = ones) -> float:
            return value[0] * np.prod([ones[k] if k in subset else zero[0, k] for k in range(3)])

        for i in range(3):
            others = [k for k in range(3) if k != i]
            expected = 0.0
            for size in range(3):
                weight = {0: 1 / 3, 1: 1 / 6, 2: 1 / 3}[size]
                for subset in [s for s in _subsets(others) if len(s) == size]:
                    expected += weight * (v((*subset, i)) - v(subset))
            assert got[i] == pytest.approx(expected, abs=1e-15)


def _subsets(items: list[int]) -> list[tuple[int, ...]]:
    return [tuple(item for bit, item in enumerate(items) if mask >> bit & 1) for mask in range(1 << len(items))]


def test_the_engine_is_said_once_at_start_up(artifact, models, caplog):
    from handler.model.reasons import Explainer

    with caplog.at_level(logging.INFO, logger="handler.model.reasons"):
        Explainer(artifact.estimator, artifact.metadata, artifact.applicant_columns, artifact.card_columns)
        Explainer(models["deep"], artifact.metadata, artifact.applicant_columns, artifact.card_columns)
    said = [record.getMessage() for record in caplog.records]
    assert said == [
        "reason codes: exact path-dependent TreeSHAP, one table row per tree",
        "reason codes: exact path-dependent TreeSHAP, every path evaluated per pair (slower); the trees are too "
        "large to tabulate",
    ]


def test_paths_too_many_to_tabulate_use_the_formula_with_the_same_result(models, artifact, monkeypatch):
    tabulated = TreeExplainer.build(models["deep"], artifact.applicant_columns, artifact.card_columns)
    assert all(group.table is not None for group in tabulated.paths)
    monkeypatch.setattr(tree_shap, "MAX_PATH_TABLE_VALUES", 0)
    formula = TreeExplainer.build(models["deep"], artifact.applicant_columns, artifact.card_columns)
    assert all(group.table is None for group in formula.paths)
    pairs = pair_rows(artifact, synthetic_applicants(40, seed=9), artifact.bundled_catalog.features)
    assert np.abs(formula.rows(pairs) - tabulated.rows(pairs)).max() <= 1e-12
    margin = models["deep"].decision_function(pairs)
    assert np.abs(formula.base + formula.rows(pairs).sum(axis=1) - margin).max() <= TOLERANCE
