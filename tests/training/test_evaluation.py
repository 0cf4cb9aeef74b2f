"""Hold-out metrics: AUC, log-loss, Brier score and calibration by decile."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation import calibration_by_decile, evaluate


def test_a_perfect_ranking_has_auc_one_and_the_metrics_are_plain_json_numbers():
    labels = np.array([0, 0, 1, 1])
    metrics = evaluate(labels, np.array([0.1, 0.2, 0.8, 0.9]))
    assert metrics["auc"] == 1.0
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.8, 0.9])), abs=1e-6)
    assert metrics["brier_score"] == pytest.approx(np.mean(np.square([0.1, 0.2, 0.2, 0.1])), abs=1e-6)
    assert (metrics["holdout_rows"], metrics["holdout_approved_rate"]) == (4, 0.5)
    assert all(type(metrics[key]) in (int, float) for key in ("holdout_rows", "auc", "log_loss", "brier_score"))


def test_calibration_puts_rows_into_ten_groups_by_predicted_odds():
    rng = np.random.default_rng(0)
    odds = rng.random(1000)
    labels = (rng.random(1000) < odds).astype(int)
    deciles = calibration_by_decile(labels, odds)
    assert [group["decile"] for group in deciles] == list(range(1, 11))
    assert [group["rows"] for group in deciles] == [100] * 10
    predicted = [group["mean_predicted"] for group in deciles]
    assert predicted == sorted(predicted)
    for group in deciles:  # well calibrated by construction: observed rate near the prediction
        assert abs(group["observed_rate"] - group["mean_predicted"]) < 0.15


def test_fewer_than_ten_rows_give_fewer_groups_and_none_empty():
    deciles = calibration_by_decile(np.array([0, 1, 1]), np.array([0.2, 0.9, 0.6]))
    assert [(group["rows"], group["mean_predicted"], group["observed_rate"]) for group in deciles] == [
        (1, 0.2, 0.0),
        (1, 0.6, 1.0),
        (1, 0.9, 1.0),
    ]
