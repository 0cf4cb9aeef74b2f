"""Approval odds come from a compiled engine only when it matches sklearn; else the next engine serves, logged."""

import logging
import sys

import numpy as np
import pytest

from handler.model import predictor as predictor_module
from handler.model.artifact import load_artifact
from handler.model.pair_trees import MAX_LEAVES, PairTreePredictor
from handler.model.predictor import (
    DEEP_MAX_APPLICANTS,
    MAX_ROWS,
    OnnxPredictor,
    RowPredictor,
    SizeRouted,
    SklearnPredictor,
    check_limit,
    choose_engine,
    onnx_session,
    validation_rows,
)
from handler.model.tree_onnx import raw_score_onnx, split_points
from tests.support.artifacts import applicant, pair_rows, write_artifact


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return load_artifact(write_artifact(tmp_path_factory.mktemp("model"), n_cards=6))


@pytest.fixture(scope="module")
def other_estimator(tmp_path_factory):
    """A valid model with different trees: its compiled form is well-formed but wrong for `small`."""
    return load_artifact(write_artifact(tmp_path_factory.mktemp("other"), seed=1)).estimator


@pytest.fixture(scope="module")
def demo(demo_model):
    return load_artifact(demo_model)


def applicants_matrix(artifact, n):
    names = artifact.metadata.applicant_feature_names
    rng = np.random.default_rng(n)
    rows = [applicant(age=int(rng.integers(18, 90)), annual_income=float(rng.uniform(0, 250_000))) for _ in range(n)]
    return np.array([[row[name] for name in names] for row in rows], dtype=np.float64)


def serving_pairs(artifact, n_applicants):
    catalog = artifact.bundled_catalog
    return pair_rows(artifact, applicants_matrix(artifact, n_applicants), catalog.features[catalog.active])


def load(artifact, **options):
    return choose_engine(artifact.estimator, artifact.metadata, artifact.bundled_catalog.features, **options)[0]


def fallback_warnings(caplog):
    return [r for r in caplog.records if r.name == "handler.model.predictor" and r.levelno == logging.WARNING]


def grid(artifact, n_applicants):
    catalog = artifact.bundled_catalog
    return applicants_matrix(artifact, n_applicants), catalog.features, np.flatnonzero(catalog.active)


@pytest.mark.parametrize("engine", ["pair-trees", "onnxruntime"])
@pytest.mark.parametrize("model", ["small", "demo"])
def test_each_compiled_engine_serves_and_equals_sklearn(engine, model, request, caplog):
    artifact = request.getfixturevalue(model)
    caplog.set_level(logging.INFO, logger="handler.model.predictor")
    predictor = load(artifact, engine=engine)
    assert predictor.kind == engine
    assert not fallback_warnings(caplog)
    for n_applicants in (1, 3, 200):  # 200 applicants exceed onnxruntime's max_rows: sklearn scores those
        pairs = serving_pairs(artifact, n_applicants)
        odds = predictor.approval_odds(pairs)
        assert odds.dtype == np.float64 and odds.shape == (len(pairs),)
        expected = artifact.estimator.predict_proba(pairs)[:, 1]
        assert np.array_equal(odds, expected)  # bit for bit
        applicants, cards, rows = grid(artifact, n_applicants)
        assert np.array_equal(applicants, pairs[:: len(rows), artifact.applicant_columns])
        by_pair = predictor.grid_odds(applicants, cards, rows)
        assert by_pair.shape == (n_applicants, len(rows))
        assert np.array_equal(by_pair.reshape(-1), expected)


def test_pair_trees_is_the_default_engine(small):
    assert load(small).kind == "pair-trees"


@pytest.mark.parametrize("engine", ["pair-trees", "onnxruntime"])
def test_rows_one_step_off_a_split_match_sklearn_which_compares_float32(small, engine):
    predictor = load(small, engine=engine)
    splits = split_points(small.estimator)
    rows = np.tile(serving_pairs(small, 1)[:1], (len(splits), 1))
    for nudge in (np.inf, -np.inf):
        rows[np.arange(len(splits)), splits[:, 0].astype(int)] = np.nextafter(splits[:, 1], nudge)
        for chunk in np.array_split(rows, len(rows) // MAX_ROWS + 1):
            odds = predictor.approval_odds(chunk)
            assert np.array_equal(odds, small.estimator.predict_proba(chunk)[:, 1])


def test_calls_above_max_rows_go_to_sklearn(small, other_estimator):
    # A deliberately wrong compiled form shows which engine answered each call.
    wrong = OnnxPredictor(onnx_session(raw_score_onnx(other_estimator)), SklearnPredictor.of(small.estimator), 10)
    pairs = serving_pairs(small, 2)[:11]
    assert wrong.approval_odds(pairs).tolist() == small.estimator.predict_proba(pairs)[:, 1].tolist()
    assert wrong.approval_odds(pairs[:10]) == pytest.approx(other_estimator.predict_proba(pairs[:10])[:, 1], abs=1e-9)


def test_engine_sklearn_skips_compiling(small, caplog):
    predictor = load(small, engine="sklearn")
    assert predictor.kind == "sklearn"
    pairs = serving_pairs(small, 2)
    assert predictor.approval_odds(pairs).tolist() == small.estimator.predict_proba(pairs)[:, 1].tolist()
    applicants, cards, rows = grid(small, 2)
    assert predictor.grid_odds(applicants, cards, rows).reshape(-1).tolist() == predictor.approval_odds(pairs).tolist()
    assert not caplog.records


def test_unknown_engines_and_a_zero_row_limit_are_programming_errors(small):
    with pytest.raises(ValueError, match="engine"):
        load(small, engine="treelite")
    with pytest.raises(ValueError, match="max_rows"):
        load(small, max_rows=0)


@pytest.mark.parametrize(
    ("compiled", "reason"),
    [
        pytest.param(lambda small, other: raw_score_onnx(small)[:-40], "INVALID_PROTOBUF", id="truncated model"),
        pytest.param(lambda small, other: raw_score_onnx(other), "differs from sklearn on", id="fails parity"),
    ],
)
def test_a_broken_compiled_form_falls_back_to_sklearn_logged(compiled, reason, small, other_estimator, caplog):
    predictor = load(small, engine="onnxruntime", compile_model=lambda estimator: compiled(estimator, other_estimator))
    assert predictor.kind == "sklearn"
    why, fallback = fallback_warnings(caplog)
    assert why.getMessage().startswith("approval odds: onnxruntime ") and reason in why.getMessage()
    assert "using sklearn predict_proba" in fallback.getMessage()
    pairs = serving_pairs(small, 2)
    assert predictor.approval_odds(pairs).tolist() == small.estimator.predict_proba(pairs)[:, 1].tolist()


def test_pair_trees_failing_parity_hands_over_to_onnxruntime(small, other_estimator, caplog, monkeypatch):
    real_build = PairTreePredictor.build
    monkeypatch.setattr(PairTreePredictor, "build", lambda _, *columns: real_build(other_estimator, *columns))
    predictor = load(small)
    assert predictor.kind == "onnxruntime"
    (warning,) = fallback_warnings(caplog)
    assert warning.getMessage().startswith("approval odds: pair-trees differs from sklearn on")


def test_trees_too_large_for_pair_trees_are_served_by_onnxruntime(small, caplog):
    from sklearn.ensemble import GradientBoostingClassifier

    pairs = serving_pairs(small, 40)
    labels = np.random.default_rng(0).integers(0, 2, len(pairs))
    deep = GradientBoostingClassifier(n_estimators=3, max_depth=9, random_state=0).fit(pairs, labels)
    assert max(tree.tree_.n_leaves for (tree,) in deep.estimators_) > MAX_LEAVES
    predictor = choose_engine(deep, small.metadata, small.bundled_catalog.features)[0]
    assert predictor.kind == "onnxruntime"
    (warning,) = fallback_warnings(caplog)
    assert f"exceed the {MAX_LEAVES}-leaf masks" in warning.getMessage()


def test_an_unsupported_estimator_falls_back_to_sklearn(small, caplog):
    from sklearn.ensemble import RandomForestClassifier

    pairs = serving_pairs(small, 4)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(pairs, np.arange(len(pairs)) % 2)
    predictor = choose_engine(forest, small.metadata)[0]
    assert predictor.kind == "sklearn"
    pair_trees, onnx, fallback = (warning.getMessage() for warning in fallback_warnings(caplog))
    for message in (pair_trees, onnx):
        assert "UnsupportedModel: RandomForestClassifier is not a GradientBoostingClassifier" in message
    assert "using sklearn predict_proba" in fallback
    assert predictor.approval_odds(pairs).tolist() == forest.predict_proba(pairs)[:, 1].tolist()


def test_without_onnxruntime_installed_pair_trees_still_serves(small, caplog, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what `import onnxruntime` sees when it is absent
    assert load(small).kind == "pair-trees"
    predictor = load(small, engine="onnxruntime")
    assert predictor.kind == "sklearn"
    why, _ = fallback_warnings(caplog)
    assert "ModuleNotFoundError" in why.getMessage() or "ImportError" in why.getMessage()


def test_fallback_warnings_carry_no_feature_values(small, other_estimator, caplog):
    load(small, engine="onnxruntime", compile_model=lambda _: raw_score_onnx(other_estimator))
    rows = validation_rows(small.metadata, small.bundled_catalog.features, split_points(small.estimator))
    for warning in fallback_warnings(caplog):
        message = warning.getMessage()
        assert not any(f"{value:g}" in message.split() for value in np.unique(rows) if value not in (0, 1))


def test_validation_rows_cover_cards_bounds_and_splits(small):
    metadata, cards = small.metadata, small.bundled_catalog.features
    splits = split_points(small.estimator)
    rows = validation_rows(metadata, cards, splits)
    specs = {spec.name: spec for spec in (*metadata.applicant_features, *metadata.card_features)}
    for column, name in enumerate(metadata.feature_order):
        spec = specs[name]
        if spec.type == "boolean":
            assert {0.0, 1.0} <= set(rows[:, column])
        else:
            assert rows[:, column].min() == spec.min and rows[:, column].max() == spec.max
    card_columns = [metadata.feature_order.index(name) for name in metadata.card_feature_names]
    for card in cards:
        assert np.count_nonzero((rows[:, card_columns] == card).all(axis=1)) >= 64
    for feature, threshold in splits:
        assert np.any(rows[:, int(feature)] == threshold)
    assert np.array_equal(rows, validation_rows(metadata, cards, splits))  # deterministic: same check every load


def test_an_engine_off_by_the_last_bits_is_not_chosen(small, caplog):
    import copy

    nudged = copy.deepcopy(small.estimator)
    nudged.learning_rate = np.nextafter(nudged.learning_rate, 1.0)  # odds off by ~1e-17: far inside any tolerance
    predictor = load(small, engine="onnxruntime", compile_model=lambda _: raw_score_onnx(nudged))
    assert predictor.kind == "sklearn"
    why, _ = fallback_warnings(caplog)
    assert "onnxruntime differs from sklearn on" in why.getMessage()


def deep_model(small, **options):
    from sklearn.ensemble import GradientBoostingClassifier

    pairs = serving_pairs(small, 40)
    labels = (pairs[:, 2] + np.random.default_rng(0).normal(0, 30_000, len(pairs)) > 120_000).astype(int)
    return GradientBoostingClassifier(random_state=0, **options).fit(pairs, labels)


def test_deep_trees_go_to_pair_trees_for_small_calls_and_to_sklearn_for_large_ones(small, monkeypatch):
    deep = deep_model(small, n_estimators=10, max_depth=5)
    predictor = choose_engine(deep, small.metadata, small.bundled_catalog.features)[0]
    assert isinstance(predictor, SizeRouted) and predictor.kind == "pair-trees"
    answered = []
    for engine in (PairTreePredictor, RowPredictor):
        real = engine.grid_odds
        spy = lambda self, *args, real=real, kind=engine: answered.append(kind) or real(self, *args)  # noqa: E731
        monkeypatch.setattr(engine, "grid_odds", spy)
    applicants, cards, rows = grid(small, DEEP_MAX_APPLICANTS + 1)
    for n in (1, DEEP_MAX_APPLICANTS, DEEP_MAX_APPLICANTS + 1):
        odds = predictor.grid_odds(applicants[:n], cards, rows).reshape(-1)
        assert np.array_equal(odds, deep.predict_proba(pair_rows(small, applicants[:n], cards[rows]))[:, 1])
    assert answered == [PairTreePredictor, PairTreePredictor, RowPredictor]


def test_trees_of_up_to_8_leaves_stay_with_pair_trees_at_every_call_size(small):
    assert isinstance(load(small), PairTreePredictor)


def test_the_check_scores_a_bounded_number_of_rows_however_many_trees(small, monkeypatch):
    monkeypatch.setattr(predictor_module, "CHECK_BUDGET", 200_000)  # rows x split nodes
    cards = small.bundled_catalog.features
    scored = []
    real = SklearnPredictor.approval_odds
    monkeypatch.setattr(
        SklearnPredictor, "approval_odds", lambda self, rows: scored.append(len(rows)) or real(self, rows)
    )
    large = deep_model(small, n_estimators=300, max_depth=3)
    splits = split_points(large)
    limit = check_limit(splits)
    assert limit == predictor_module.MIN_CHECK_ROWS < len(splits)  # unbounded, 5 probe rows per split and more
    assert len(validation_rows(small.metadata, cards, splits)) == limit
    assert choose_engine(large, small.metadata, cards)[0].kind == "pair-trees"
    assert sum(scored) <= 2 * limit  # every validation row once, the grid's applicants x cards once more
