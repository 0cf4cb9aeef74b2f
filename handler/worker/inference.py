"""The SageMaker inference contract: the four functions the handler service calls for every request.

model_fn(model_dir)                                  -> Model          (once per worker)
input_fn(body, content_type, attributes, model)      -> ScoringRequest (decode + validate)
predict_fn(request, model)                           -> Prediction     (every applicant x card, reasons if asked)
output_fn(prediction, accept)                        -> (bytes, media type)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import config
from config.settings import MAX_RESPONSE_BYTES
from handler.codecs import decode_request, encode_prediction, parse_content_type, with_custom_attributes
from handler.errors import response_too_large
from handler.model.artifact import Artifact, load_artifact
from handler.model.reasons import Explainer, with_reasons
from handler.model.request import Prediction, ScoringRequest
from handler.model.scoring import score
from handler.refresh.catalog_store import CatalogStore
from handler.refresh.refresher import Refresher, start_refresher


@dataclass(frozen=True)
class Model:
    artifact: Artifact
    catalogs: CatalogStore
    refresher: Refresher
    settings: config.Settings
    explainer: Explainer


def model_fn(model_dir: str) -> Model:
    settings = config.load()
    artifact = load_artifact(Path(model_dir), settings.prediction_engine, verdicts=settings.control_dir)
    catalogs = CatalogStore(artifact.bundled_catalog)
    refresher = start_refresher(settings, artifact.metadata, catalogs, artifact.bundled_catalog)
    explainer = Explainer(artifact.estimator, artifact.metadata, artifact.applicant_columns, artifact.card_columns)
    return Model(artifact, catalogs, refresher, settings, explainer)


def input_fn(body: bytes, content_type: str | None, custom_attributes: str | None, model: Model) -> ScoringRequest:
    request = decode_request(body, parse_content_type(content_type), model.artifact.metadata)
    return with_custom_attributes(request, custom_attributes)


def predict_fn(request: ScoringRequest, model: Model) -> Prediction:
    if request.refresh_catalog:
        model.refresher.refresh_now()
    catalog = model.catalogs.current  # once: the odds and their reasons must come from the same catalogue
    prediction = score(model.artifact, catalog, request, model.settings.default_cards)
    return with_reasons(prediction, model.explainer, catalog, request, model.settings)


def output_fn(prediction: Prediction, accept: str) -> tuple[bytes, str]:
    body = encode_prediction(prediction, accept)
    if len(body) > MAX_RESPONSE_BYTES:  # MMS would drop it and answer 500 "Worker died." after all the scoring
        raise response_too_large(len(body), MAX_RESPONSE_BYTES, len(prediction.applicant_ids), len(prediction.card_ids))
    return body, accept
