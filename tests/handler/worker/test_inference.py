"""The four SageMaker functions on their own; output_fn also refuses a response MMS cannot carry."""

import dataclasses
import json

import numpy as np
import pytest

import config
from handler.errors import RequestError
from handler.model.request import Prediction
from handler.worker import inference
from handler.worker.inference import output_fn
from tests.support.artifacts import applicant, write_artifact


def prediction(applicants: int, cards: int) -> Prediction:
    card_ids = tuple(f"card-{i}" for i in range(cards))
    return Prediction([None] * applicants, card_ids, np.full((applicants, cards), 0.5), "m-1", "c-1")


def test_a_response_over_the_limit_is_a_413_telling_how_to_split_the_work(monkeypatch):
    monkeypatch.setattr(inference, "MAX_RESPONSE_BYTES", 10 * 2**20)
    body, media_type = output_fn(prediction(1000, 40), "text/csv")  # 360 kB: fine
    assert (len(body), media_type) == (1000 * 40 * 9 - 1, "text/csv")
    with pytest.raises(RequestError) as raised:
        output_fn(prediction(30_000, 40), "text/csv")  # 10.3 MB
    error = raised.value
    assert (error.status, error.code) == (413, "response_too_large")
    assert "30,000 applicants x 40 cards would be 10.3 MB, over the 10 MB" in error.message
    assert "MaxPayloadInMB" in error.message and "DEFAULT_CARDS" in error.message


# --- the four functions on their own, on a small artefact (no MMS) -----------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("inference")
    model_dir = write_artifact(root / "model", n_cards=6)
    env = {"CONTROL_DIR": str(root / "control"), "CARD_VARIABLES_CACHE_DIR": str(root / "cache")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "load", lambda: config.from_env(env))
        loaded = inference.model_fn(str(model_dir))
    yield loaded
    loaded.refresher.stop()


def body_of(*rows: dict) -> bytes:
    return json.dumps({"applicants": list(rows)}).encode()


def test_model_fn_loads_the_artefact_and_serves_its_bundled_catalogue(model):
    assert model.artifact.metadata.model_version == "test-1"
    assert model.catalogs.current is model.artifact.bundled_catalog
    assert model.artifact.predictor.kind == "pair-trees"


def test_input_fn_decodes_by_media_type_and_merges_custom_attributes(model):
    request = inference.input_fn(
        body_of(applicant(age=40)), "application/json; charset=utf-8", "top_k=2; cards=card-01,card-03", model
    )
    names = model.artifact.metadata.applicant_feature_names
    assert request.features.tolist() == [[applicant(age=40)[name] for name in names]]
    assert (request.top_k, request.cards) == (2, ("card-01", "card-03"))
    csv_request = inference.input_fn(b"0,35,52000,1,0,1,40,1,6\r\n", "text/csv", None, model)
    assert csv_request.features.shape == (1, len(names))


def test_input_fn_refuses_an_unsupported_content_type(model):
    with pytest.raises(RequestError) as raised:
        inference.input_fn(b"<a/>", "application/xml", None, model)
    assert (raised.value.status, raised.value.code) == (415, "unsupported_media_type")


def test_predict_fn_scores_against_the_current_catalogue(model):
    request = inference.input_fn(body_of(applicant(), applicant(age=70)), "application/json", None, model)
    prediction = inference.predict_fn(request, model)
    assert prediction.odds.shape == (2, 6)
    assert prediction.catalog_version == model.catalogs.current.version
    assert ((prediction.odds >= 0) & (prediction.odds <= 1)).all()


def test_predict_fn_refreshes_first_when_the_request_asks_for_it(model, monkeypatch):
    calls = []
    monkeypatch.setattr(model.refresher, "refresh_now", lambda *args, **kwargs: calls.append("refresh"))
    request = inference.input_fn(body_of(applicant()), None, "refresh-card-variables=true", model)
    inference.predict_fn(request, model)
    assert calls == ["refresh"]


def test_predict_fn_explains_only_when_asked_and_csv_input_carries_n_in_the_attributes(model):
    plain = inference.predict_fn(inference.input_fn(body_of(applicant()), None, None, model), model)
    assert plain.reasons is None
    csv_request = inference.input_fn(b"2,19,9000,0,1,6,2,0,1\n", "text/csv", "reasons=2; top_k=3", model)
    explained = inference.predict_fn(csv_request, model)
    assert explained.reasons.index.shape == (1, 6, 2)
    assert np.array_equal(
        explained.odds, inference.predict_fn(dataclasses.replace(csv_request, reasons=None), model).odds
    )
    body = json.loads(inference.output_fn(explained, "application/json")[0])
    entries = body["results"][0]["odds"]
    assert len(entries) == 3 and all(len(entry["reasons"]) <= 2 for entry in entries)
    assert all(reason["contribution"] < 0 for entry in entries for reason in entry["reasons"])
    with pytest.raises(RequestError) as raised:
        inference.output_fn(explained, "text/csv")
    assert (raised.value.status, raised.value.code) == (406, "not_acceptable")


@pytest.mark.parametrize("accept", ["text/csv", "application/jsonlines"])
def test_output_fn_writes_one_line_per_applicant_in_the_accepted_type(accept):
    body, media_type = output_fn(prediction(3, 4), accept)
    assert media_type == accept
    assert len(body.split(b"\n")) == 3 and not body.endswith(b"\n")
