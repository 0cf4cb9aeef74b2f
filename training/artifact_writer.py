"""Write the model directory (model.joblib, model_metadata.json, card_variables.csv) and prove it loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib

from handler.model.artifact import METADATA_FILE, MODEL_FILE, Artifact, load_artifact
from handler.model.catalog import CATALOG_FILE
from handler.model.errors import ArtifactError
from handler.model.metadata import ModelMetadata
from training.errors import TrainingError


def write_artifact(model_dir: Path, estimator: Any, metadata: ModelMetadata, catalog_data: bytes) -> Artifact:
    """Write the three files, then load them with the server's own loader: a job never ships an unservable model."""
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, model_dir / MODEL_FILE, compress=3)
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata.as_dict(), indent=2) + "\n", encoding="utf-8")
    (model_dir / CATALOG_FILE).write_bytes(catalog_data)
    try:
        return load_artifact(model_dir)
    except ArtifactError as exc:
        raise TrainingError(f"the written artefact does not load: {exc}") from None
