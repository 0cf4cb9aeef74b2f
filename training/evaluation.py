"""Hold-out metrics recorded in model_metadata.json: AUC, log-loss, Brier score and calibration by decile."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

DECILES = 10


def evaluate(labels: np.ndarray, odds: np.ndarray) -> dict[str, Any]:
    """Metrics of predicted approval odds against the true 0/1 labels (both classes must be present)."""
    return {
        "holdout_rows": len(labels),
        "holdout_approved_rate": round(float(labels.mean()), 6),
        "auc": round(float(roc_auc_score(labels, odds)), 6),
        "log_loss": round(float(log_loss(labels, odds, labels=[0, 1])), 6),
        "brier_score": round(float(brier_score_loss(labels, odds)), 6),
        "calibration_by_decile": calibration_by_decile(labels, odds),
    }


def calibration_by_decile(labels: np.ndarray, odds: np.ndarray) -> list[dict[str, Any]]:
    """Rows sorted by predicted odds, cut into ten equal groups: mean prediction next to the observed rate."""
    order = np.argsort(odds, kind="stable")
    groups = [group for group in np.array_split(order, DECILES) if len(group)]
    return [
        {
            "decile": number,
            "rows": len(group),
            "mean_predicted": round(float(odds[group].mean()), 6),
            "observed_rate": round(float(labels[group].mean()), 6),
        }
        for number, group in enumerate(groups, start=1)
    ]
