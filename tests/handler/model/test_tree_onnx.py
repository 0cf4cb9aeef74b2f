"""A binary GradientBoostingClassifier as a double-precision ONNX raw score, equal to sklearn's decision_function."""

import numpy as np
import onnx
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from handler.model import tree_onnx
from handler.model.artifact import load_artifact
from handler.model.predictor import onnx_session
from handler.model.tree_onnx import INPUT, OUTPUT, UnsupportedModel, raw_score_onnx, split_points
from tests.support.artifacts import write_artifact


@pytest.fixture(scope="module")
def estimator(tmp_path_factory):
    return load_artifact(write_artifact(tmp_path_factory.mktemp("model"))).estimator


def training_data(n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.random((300, 4))
    return features, (features[:, 0] * n_classes).astype(int)


def raw_scores(model: bytes, rows):
    # The graph is fed float32-representable values, as the predictor feeds it.
    exact = rows.astype(np.float32).astype(np.float64)
    return onnx_session(model).run([OUTPUT], {INPUT: exact})[0][:, 0]


def test_the_graph_is_valid_onnx_with_double_input_and_output(estimator):
    model = onnx.load_from_string(raw_score_onnx(estimator))
    onnx.checker.check_model(model)
    (node,) = model.graph.node
    assert (node.domain, node.op_type) == ("ai.onnx.ml", "TreeEnsemble")
    double = onnx.TensorProto.DOUBLE
    assert model.graph.input[0].type.tensor_type.elem_type == double
    assert model.graph.output[0].type.tensor_type.elem_type == double


def test_raw_score_equals_decision_function(estimator):
    rows = np.random.default_rng(1).random((500, 16))
    # Bit for bit: the base folded into the first tree's leaves is sklearn's first addition, then trees in order.
    assert np.array_equal(raw_scores(raw_score_onnx(estimator), rows), estimator.decision_function(rows))


def test_trees_that_are_a_single_leaf_are_kept():
    features, approved = training_data()
    # No split is worth this much impurity decrease, so every tree is just its root leaf.
    stumps = GradientBoostingClassifier(n_estimators=5, min_impurity_decrease=1e9).fit(features, approved)
    assert all(tree.tree_.node_count == 1 for (tree,) in stumps.estimators_)
    scores = raw_scores(raw_score_onnx(stumps), features[:20])
    assert np.array_equal(scores, stumps.decision_function(features[:20]))


def test_zero_init_has_no_base_score():
    features, approved = training_data()
    zero = GradientBoostingClassifier(n_estimators=10, init="zero", random_state=0).fit(features, approved)
    scores = raw_scores(raw_score_onnx(zero), features)
    assert np.array_equal(scores, zero.decision_function(features))


@pytest.mark.parametrize(
    "unsupported",
    [
        pytest.param(lambda: RandomForestClassifier(n_estimators=3), id="not gradient boosting"),
        pytest.param(lambda: GradientBoostingClassifier(n_estimators=3, loss="exponential"), id="exponential loss"),
        pytest.param(lambda: GradientBoostingClassifier(n_estimators=3, init=LogisticRegression()), id="custom init"),
    ],
)
def test_other_models_are_refused(unsupported):
    model = unsupported().fit(*training_data())
    with pytest.raises(UnsupportedModel):
        raw_score_onnx(model)
    with pytest.raises(UnsupportedModel):
        split_points(model)


def test_multiclass_models_are_refused():
    model = GradientBoostingClassifier(n_estimators=3).fit(*training_data(n_classes=3))
    with pytest.raises(UnsupportedModel, match="binary"):
        raw_score_onnx(model)


def test_split_points_list_every_inner_node(estimator):
    splits = split_points(estimator)
    inner = sum(int(np.count_nonzero(tree.tree_.children_left != -1)) for (tree,) in estimator.estimators_)
    assert splits.shape == (inner, 2)
    assert set(splits[:, 0].astype(int)) <= set(range(16))
    first = estimator.estimators_[0, 0].tree_
    assert splits[0].tolist() == [first.feature[0], first.threshold[0]]


def test_ensembles_too_large_to_build_at_start_are_refused(estimator, monkeypatch):
    nodes = sum(tree.tree_.node_count for (tree,) in estimator.estimators_)
    monkeypatch.setattr(tree_onnx, "MAX_NODES", nodes - 1)
    with pytest.raises(UnsupportedModel, match=f"{nodes:,} tree nodes exceed"):
        raw_score_onnx(estimator)
    monkeypatch.setattr(tree_onnx, "MAX_NODES", nodes)
    assert raw_score_onnx(estimator)
