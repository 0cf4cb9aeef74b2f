"""A fitted binary GradientBoostingClassifier as an ONNX graph of its raw score, in double precision.

skl2onnx is not used: its classifier converter emits TreeEnsembleClassifier, whose probabilities
onnxruntime computes in float32 (up to ~3e-7 off sklearn). This graph is one ai.onnx.ml opset-5
TreeEnsemble with float64 splits and leaf weights and a float64 output, so only summation order
differs from sklearn. The logistic link is applied by the caller: onnxruntime's LOGISTIC
post-transform on a double TreeEnsemble returns wrong values (measured with onnxruntime 1.31).
"""

from __future__ import annotations

from typing import Any

import numpy as np

INPUT = "X"
OUTPUT = "raw_score"
ML_OPSET = 5  # TreeEnsemble with tensor (double) attributes
LEAF = -1  # sklearn's children_left for a leaf
# The graph is assembled in Python node by node (its cost per node: docs/performance.md): this many nodes keep the
# build at start-up to seconds; the largest models the trainer allows (5,000 trees of depth 12) would take minutes,
# so sklearn serves those.
MAX_NODES = 500_000


class UnsupportedModel(Exception):
    """The estimator is not a shape this converter reproduces exactly."""


def check_supported(estimator: Any) -> None:
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import GradientBoostingClassifier

    if type(estimator) is not GradientBoostingClassifier:
        raise UnsupportedModel(f"{type(estimator).__name__} is not a GradientBoostingClassifier")
    if list(estimator.classes_) != [0, 1] or estimator.loss != "log_loss":
        raise UnsupportedModel("only binary log-loss gradient boosting over classes [0, 1] is converted")
    if not (estimator.init == "zero" or isinstance(estimator.init_, DummyClassifier)):
        raise UnsupportedModel("a custom init estimator makes the base score depend on the row")


def base_score(estimator: Any) -> float:
    """The init estimator's log-odds, where sklearn starts every row's raw score (0.0 for init="zero")."""
    return float(estimator._raw_predict_init(np.zeros((1, estimator.n_features_in_)))[0, 0])


def split_points(estimator: Any) -> np.ndarray:
    """(feature, threshold) of every split in the ensemble, one row each: where comparisons are decided."""
    check_supported(estimator)
    pairs = []
    for (tree,) in estimator.estimators_:
        inner = tree.tree_.children_left != LEAF
        pairs.append(np.column_stack([tree.tree_.feature[inner], tree.tree_.threshold[inner]]))
    return np.concatenate(pairs)


def raw_score_onnx(estimator: Any) -> bytes:
    """Serialized ONNX model: X float64 (rows x n_features_in_) -> raw_score float64 (rows x 1), the log-odds."""
    from onnx import TensorProto, helper, numpy_helper

    check_supported(estimator)
    node_count = sum(int(tree.tree_.node_count) for (tree,) in estimator.estimators_)
    if node_count > MAX_NODES:
        raise UnsupportedModel(f"{node_count:,} tree nodes exceed the {MAX_NODES:,} an ONNX graph is built for")
    n_features = int(estimator.n_features_in_)
    # Constant base log-odds (the init estimator's prior); folded into the first tree's leaves because opset-5
    # TreeEnsemble has no base_values. (base + learning_rate * value) is also sklearn's first rounding step, and
    # onnxruntime then adds the trees in order, so its raw score is sklearn's bit for bit (checked at load).
    base = base_score(estimator)
    nodes = _Nodes()
    for index, (tree,) in enumerate(estimator.estimators_):
        nodes.add_tree(tree.tree_, estimator.learning_rate, base if index == 0 else 0.0)
    ensemble = helper.make_node(
        "TreeEnsemble",
        [INPUT],
        [OUTPUT],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function=1,  # SUM
        post_transform=0,  # NONE
        tree_roots=nodes.roots,
        nodes_featureids=nodes.features,
        nodes_splits=numpy_helper.from_array(np.array(nodes.splits, dtype=np.float64)),
        nodes_modes=numpy_helper.from_array(np.zeros(len(nodes.splits), dtype=np.uint8)),  # BRANCH_LEQ: x <= t
        nodes_truenodeids=nodes.true_ids,
        nodes_trueleafs=nodes.true_is_leaf,
        nodes_falsenodeids=nodes.false_ids,
        nodes_falseleafs=nodes.false_is_leaf,
        leaf_targetids=[0] * len(nodes.weights),
        leaf_weights=numpy_helper.from_array(np.array(nodes.weights, dtype=np.float64)),
    )
    graph = helper.make_graph(
        [ensemble],
        "approval_odds_raw_score",
        [helper.make_tensor_value_info(INPUT, TensorProto.DOUBLE, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.DOUBLE, [None, 1])],
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10).SerializeToString()


class _Nodes:
    """Opset-5 TreeEnsemble attributes: inner nodes and leaves numbered separately across all trees."""

    def __init__(self) -> None:
        self.roots: list[int] = []
        self.features: list[int] = []
        self.splits: list[float] = []
        self.true_ids: list[int] = []
        self.true_is_leaf: list[int] = []
        self.false_ids: list[int] = []
        self.false_is_leaf: list[int] = []
        self.weights: list[float] = []

    def add_tree(self, tree: Any, scale: float, offset: float) -> None:
        is_leaf = tree.children_left == LEAF
        # Position of each sklearn node among this ensemble's inner nodes or leaves.
        position = np.empty(tree.node_count, dtype=np.int64)
        position[~is_leaf] = len(self.splits) + np.arange(np.count_nonzero(~is_leaf))
        position[is_leaf] = len(self.weights) + np.arange(np.count_nonzero(is_leaf))
        self.weights.extend((scale * tree.value[is_leaf, 0, 0] + offset).tolist())
        if is_leaf[0]:  # a single-leaf tree: one inner node whose both branches reach that leaf
            self.roots.append(len(self.splits))
            self._add_node(0, 0.0, (int(position[0]), 1), (int(position[0]), 1))
            return
        self.roots.append(int(position[0]))
        for node in np.flatnonzero(~is_leaf):
            left, right = tree.children_left[node], tree.children_right[node]
            self._add_node(
                int(tree.feature[node]),
                float(tree.threshold[node]),
                (int(position[left]), int(is_leaf[left])),
                (int(position[right]), int(is_leaf[right])),
            )

    def _add_node(self, feature: int, split: float, true: tuple[int, int], false: tuple[int, int]) -> None:
        self.features.append(feature)
        self.splits.append(split)
        self.true_ids.append(true[0])
        self.true_is_leaf.append(true[1])
        self.false_ids.append(false[0])
        self.false_is_leaf.append(false[1])
