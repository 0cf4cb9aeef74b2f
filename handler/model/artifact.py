"""Load and cross-check a model directory: estimator, metadata and bundled catalogue must agree.

The launcher calls this before MMS starts, so a broken artefact stops the container with one clear
line instead of sitting behind a healthy /ping.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from handler.model.catalog import CATALOG_FILE, Catalog, parse_catalog
from handler.model.errors import ArtifactError, CatalogError
from handler.model.metadata import ModelMetadata, read_metadata
from handler.model.predictor import ENGINES, PairLayout, Predictor, choose_engine
from handler.model.verdicts import artefact_key, read_verdict, write_verdict

MODEL_FILE = "model.joblib"
METADATA_FILE = "model_metadata.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Artifact:
    estimator: Any
    metadata: ModelMetadata
    bundled_catalog: Catalog
    applicant_columns: np.ndarray  # position of each applicant feature in the estimator's input
    card_columns: np.ndarray  # position of each card feature in the estimator's input
    predictor: Predictor  # the estimator, compiled where that is faster and agrees with it


def load_artifact(model_dir: Path, engine: str = ENGINES[0], verdicts: Path | None = None) -> Artifact:
    """Load model_dir or raise ArtifactError with one sentence naming the file and the problem.

    `engine` names the first prediction engine to try (handler/model/predictor.py: each is used only after a parity
    check against scikit-learn, else the next is tried); "sklearn" always predicts with scikit-learn. `verdicts`,
    a directory shared by the processes of this host (the launcher and the MMS workers), keeps the check's verdict
    for this artefact so that only the first process pays for it (handler/model/verdicts.py).
    """
    if not model_dir.is_dir():
        raise ArtifactError(f"model directory {model_dir} does not exist")
    metadata = read_metadata(model_dir / METADATA_FILE)
    estimator = _load_estimator(model_dir / MODEL_FILE, metadata)
    try:
        catalog = parse_catalog((model_dir / CATALOG_FILE).read_bytes(), metadata, source="bundled")
    except FileNotFoundError:
        raise ArtifactError(f"{CATALOG_FILE} is missing from the model directory {model_dir}") from None
    except CatalogError as exc:
        raise ArtifactError(f"bundled {CATALOG_FILE} does not fit model_metadata.json: {exc}") from None
    layout = PairLayout.of(metadata)
    key = verified = None
    if verdicts is not None:
        key = artefact_key((model_dir / name for name in (MODEL_FILE, METADATA_FILE, CATALOG_FILE)), engine)
        verified = read_verdict(verdicts, key)
    predictor, verdict = choose_engine(estimator, metadata, catalog.features, engine=engine, verified=verified)
    if verdicts is not None and key is not None and not verdict.reused:
        write_verdict(verdicts, key, verdict.engine)
    return Artifact(
        estimator=estimator,
        metadata=metadata,
        bundled_catalog=catalog,
        applicant_columns=layout.applicant_columns,
        card_columns=layout.card_columns,
        predictor=predictor,
    )


def _load_estimator(path: Path, metadata: ModelMetadata) -> Any:
    if not path.is_file():
        raise ArtifactError(f"{MODEL_FILE} is missing from the model directory {path.parent}")
    if metadata.sklearn_version != sklearn.__version__:
        log.warning(
            "model was trained with scikit-learn %s, serving with %s", metadata.sklearn_version, sklearn.__version__
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # version-mismatch warnings are logged once above
            estimator = joblib.load(path)
    except Exception as exc:  # joblib surfaces unpickling failures as many exception types
        raise ArtifactError(f"{MODEL_FILE} cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not callable(getattr(estimator, "predict_proba", None)):
        raise ArtifactError(f"{MODEL_FILE} holds a {type(estimator).__name__}, which has no predict_proba")
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features != len(metadata.feature_order):
        raise ArtifactError(
            f"{MODEL_FILE} expects {n_features} features but model_metadata.json lists "
            f"{len(metadata.feature_order)} in feature_order"
        )
    classes = list(getattr(estimator, "classes_", []))
    if sorted(classes) != [0, 1]:
        raise ArtifactError(f"{MODEL_FILE} must be a binary classifier of approved 0/1, its classes are {classes}")
    _check_column_names(estimator, metadata)
    return estimator


def _check_column_names(estimator: Any, metadata: ModelMetadata) -> None:
    """An estimator fitted on a DataFrame reads columns by position like any other; its column names must be
    feature_order, in that order, or every engine would feed it the wrong feature in some column.

    Refused rather than reordered: feature_order is the one statement of the estimator's input (training, the
    catalogue join and every engine build from it), and names that disagree with it mean the artefact was put
    together wrongly, which silently serving it would hide.
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return
    names = [str(name) for name in names]
    if names != list(metadata.feature_order):
        column, fitted, listed = next(
            (i, name, order)
            for i, (name, order) in enumerate(zip(names, metadata.feature_order, strict=True))
            if name != order
        )
        raise ArtifactError(
            f"{MODEL_FILE} was fitted on columns named in another order than model_metadata.json feature_order: "
            f"column {column} is {fitted!r} in the estimator but {listed!r} in feature_order; refit with the "
            "columns in feature_order's order, or list feature_order as the estimator's feature_names_in_"
        )
    # Proven to be feature_order: serving passes exactly those columns as arrays, and sklearn would otherwise warn
    # on every call that the array has no column names.
    del estimator.feature_names_in_
