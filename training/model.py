"""The estimator: built from the hyperparameters, fitted on a plain float matrix, evaluated on a hold-out set."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

from training.data import Dataset
from training.errors import TrainingError
from training.hyperparameters import Hyperparameters
from training.paths import TRAIN_CHANNEL, VALIDATION_CHANNEL


def fit(dataset: Dataset, hyper: Hyperparameters) -> GradientBoostingClassifier:
    """A fitted classifier; a numpy matrix (not a DataFrame) so predict_proba on arrays raises no warnings."""
    estimator = GradientBoostingClassifier(
        n_estimators=hyper.n_estimators,
        learning_rate=hyper.learning_rate,
        max_depth=hyper.max_depth,
        min_samples_leaf=hyper.min_samples_leaf,
        subsample=hyper.subsample,
        random_state=hyper.random_state,
    )
    return estimator.fit(dataset.features, dataset.labels)


def approval_odds(estimator: GradientBoostingClassifier, dataset: Dataset) -> np.ndarray:
    return estimator.predict_proba(dataset.features)[:, list(estimator.classes_).index(1)]


def hold_out(dataset: Dataset, hyper: Hyperparameters) -> tuple[Dataset, Dataset]:
    """(fit, hold-out) rows of one channel, stratified by label, when no validation channel is given."""
    rows = np.arange(len(dataset))
    try:
        fit_rows, holdout_rows = train_test_split(
            rows, test_size=hyper.validation_fraction, stratify=dataset.labels, random_state=hyper.random_state
        )
    except ValueError:
        raise TrainingError(
            f"channel {TRAIN_CHANNEL}: {len(dataset)} rows are too few to hold out validation_fraction="
            f"{hyper.validation_fraction} with both labels on each side; add rows or a {VALIDATION_CHANNEL} channel"
        ) from None
    return dataset.subset(np.sort(fit_rows)), dataset.subset(np.sort(holdout_rows))
