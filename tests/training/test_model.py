"""The estimator: fitted from the hyperparameters on a plain matrix; the hold-out split when no validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from training.data import Dataset, FileSummary
from training.errors import TrainingError
from training.hyperparameters import Hyperparameters
from training.model import approval_odds, fit, hold_out


def dataset(rows: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    labels = (features[:, 0] + 0.3 * rng.normal(size=rows) > 0).astype(np.int64)
    return Dataset(features, labels, (FileSummary("train/a.csv", rows, "0" * 64),))


def test_the_default_estimator_is_gradient_boosting_configured_by_the_hyperparameters():
    estimator = fit(dataset(200), Hyperparameters(n_estimators=7, max_depth=2, min_samples_leaf=3, random_state=5))
    assert isinstance(estimator, GradientBoostingClassifier)
    params = estimator.get_params()
    assert (params["n_estimators"], params["max_depth"], params["min_samples_leaf"], params["random_state"]) == (
        7,
        2,
        3,
        5,
    )


def test_odds_are_the_approved_class_and_predicting_on_arrays_warns_nothing():
    data = dataset(300)
    estimator = fit(data, Hyperparameters(n_estimators=20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        odds = approval_odds(estimator, data)
    assert odds.shape == (300,)
    assert odds[data.labels == 1].mean() > 0.8 > 0.2 > odds[data.labels == 0].mean()


def test_the_hold_out_is_stratified_disjoint_and_reproducible():
    data = dataset(400)
    fit_set, holdout = hold_out(data, Hyperparameters(validation_fraction=0.25, random_state=1))
    again_fit, again_holdout = hold_out(data, Hyperparameters(validation_fraction=0.25, random_state=1))
    assert (len(fit_set), len(holdout)) == (300, 100)
    assert abs(holdout.labels.mean() - data.labels.mean()) < 0.01
    assert np.array_equal(holdout.features, again_holdout.features)
    assert np.array_equal(fit_set.features, again_fit.features)
    together = np.concatenate([fit_set.features, holdout.features])
    assert len(np.unique(together, axis=0)) == 400


def test_too_few_rows_to_hold_out_is_a_clear_error():
    with pytest.raises(TrainingError, match="^channel train: 3 rows are too few to hold out validation_fraction=0.2"):
        hold_out(dataset(3).subset(np.array([0, 1, 2])), Hyperparameters())
