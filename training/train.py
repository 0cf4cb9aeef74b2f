"""`entrypoint.py train`: SageMaker's training contract.

Reads past applications from the `train` channel (and optional `validation`), the card catalogue from the
`cards` channel (or the bundled demo one) and hyperparameters.json; writes the artefact to <root>/model.
On failure the reason goes to <root>/output/failure and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import os
import time
from dataclasses import replace
from typing import Any

import sklearn

from handler.model.metadata import ModelMetadata
from training.artifact_writer import write_artifact
from training.cards import TrainingCards, read_cards
from training.data import Dataset, read_channel, require_both_classes
from training.errors import TrainingError
from training.evaluation import evaluate
from training.features import schema_metadata
from training.hyperparameters import Hyperparameters, read_hyperparameters
from training.model import approval_odds, fit, hold_out
from training.paths import CARDS_CHANNEL, TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingPaths

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(
        prog="entrypoint.py train",
        description="Train the approval-odds model under SageMaker's /opt/ml layout (root: $SAGEMAKER_BASE_DIR).",
    ).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return train(TrainingPaths.from_env(os.environ))


def train(paths: TrainingPaths) -> int:
    """Run one training job; 0 on success, 1 after writing the reason to output/failure."""
    started = time.monotonic()
    paths.failure.unlink(missing_ok=True)  # a reused local root must not keep an earlier run's failure
    try:
        metadata = run(paths)
    except TrainingError as exc:
        return _fail(paths, str(exc))
    except Exception as exc:  # anything else is a bug, but the job must still say why it stopped
        log.exception("training failed unexpectedly")
        return _fail(paths, f"training failed unexpectedly: {type(exc).__name__}: {exc}")
    log.info(
        "model %s written to %s in %.1f s: hold-out AUC %.4f, log-loss %.4f",
        metadata.model_version,
        paths.model_dir,
        time.monotonic() - started,
        metadata.metrics["auc"],
        metadata.metrics["log_loss"],
    )
    return 0


def run(paths: TrainingPaths) -> ModelMetadata:
    """Read, validate, fit, evaluate and write the artefact; raises TrainingError for bad inputs."""
    hyper = read_hyperparameters(paths.hyperparameters)
    schema = schema_metadata()
    cards = read_cards(paths.channel(CARDS_CHANNEL), schema)
    train_set = read_channel(paths.channel(TRAIN_CHANNEL), TRAIN_CHANNEL, schema, cards.catalog)
    require_both_classes(train_set, TRAIN_CHANNEL)
    if paths.channel(VALIDATION_CHANNEL).exists():
        fit_set = train_set
        holdout = read_channel(paths.channel(VALIDATION_CHANNEL), VALIDATION_CHANNEL, schema, cards.catalog)
        require_both_classes(holdout, VALIDATION_CHANNEL)
    else:
        fit_set, holdout = hold_out(train_set, hyper)
    estimator = fit(fit_set, hyper)
    metadata = replace(
        schema,
        model_version=hyper.model_version or _content_version(hyper, cards, train_set, holdout),
        created_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        sklearn_version=sklearn.__version__,
        metrics=evaluate(holdout.labels, approval_odds(estimator, holdout)),
        training_data=_describe(hyper, cards, fit_set, holdout, separate_validation=fit_set is train_set),
    )
    write_artifact(paths.model_dir, estimator, metadata, cards.data)
    return metadata


def _content_version(hyper: Hyperparameters, cards: TrainingCards, *datasets: Dataset) -> str:
    """Same inputs and hyperparameters → same model_version, whoever trains it."""
    digest = hashlib.sha256(json.dumps(hyper.as_dict(), sort_keys=True).encode())
    digest.update(sklearn.__version__.encode())
    digest.update(hashlib.sha256(cards.data).digest())
    for dataset in datasets:
        for file in dataset.files:
            digest.update(f"{file.name}:{file.sha256}".encode())
    return f"gbc-{digest.hexdigest()[:12]}"


def _describe(
    hyper: Hyperparameters, cards: TrainingCards, fit_set: Dataset, holdout: Dataset, *, separate_validation: bool
) -> dict[str, Any]:
    """Provenance without personal data: counts, rates and file hashes only."""
    holdout_source = (
        f"channel {VALIDATION_CHANNEL}"
        if separate_validation
        else f"{hyper.validation_fraction:g} of channel {TRAIN_CHANNEL} rows, stratified by label"
    )
    return {
        "description": hyper.data_description,
        "fit_rows": len(fit_set),
        "fit_approved_rate": round(float(fit_set.labels.mean()), 6),
        "holdout_rows": len(holdout),
        "holdout_source": holdout_source,
        "files": [file.as_dict() for file in fit_set.files + (holdout.files if separate_validation else ())],
        "cards": {
            "origin": cards.origin,
            "sha256": hashlib.sha256(cards.data).hexdigest(),
            "count": len(cards.catalog),
        },
        "hyperparameters": {key: value for key, value in hyper.as_dict().items() if key != "data_description"},
    }


def _fail(paths: TrainingPaths, reason: str) -> int:
    log.error("training failed: %s", reason)
    try:
        paths.failure.parent.mkdir(parents=True, exist_ok=True)
        paths.failure.write_text(reason + "\n", encoding="utf-8")
    except OSError as exc:
        log.error("could not write %s: %s", paths.failure, exc)
    return 1
