"""The reference predictor (NOT product code) must do the product's work: same odds, same shapes, same cards."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.reference import predictor
from bench.workload import csv_body, json_applicants
from handler.model.artifact import load_artifact
from handler.model.request import ScoringRequest
from handler.model.scoring import score
from tests.support.artifacts import catalog_csv, metadata, write_artifact


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    directory = write_artifact(tmp_path / "model")
    (directory / "card_variables.csv").write_bytes(catalog_csv(6, inactive=(2,)))
    monkeypatch.setattr(predictor, "MODEL_DIR", str(directory))
    monkeypatch.setattr(predictor.ScoringService, "model", None)  # loaded lazily per worker, as the original did
    return directory


@pytest.fixture
def client(model_dir):
    return predictor.app.test_client()


def product_odds(model_dir, body: bytes) -> np.ndarray:
    artifact = load_artifact(model_dir)
    features = np.loadtxt(body.decode().splitlines(), delimiter=",", ndmin=2)
    request = ScoringRequest([None] * len(features), features)
    return score(artifact, artifact.bundled_catalog, request, None).odds


def test_ping_loads_the_model(client):
    assert client.get("/ping").status_code == 200
    assert predictor.ScoringService.model is not None


def test_csv_odds_match_the_product_line_for_line(client, model_dir):
    body = csv_body(metadata(), 40)
    answer = client.post("/invocations", data=body, content_type="text/csv", headers={"Accept": "text/csv"})
    assert answer.status_code == 200
    lines = answer.get_data(as_text=True).split("\n")
    assert len(lines) == 40  # no trailing newline, like the product
    odds = np.array([[float(value) for value in line.split(",")] for line in lines])
    assert odds.shape == (40, 5)  # the inactive card is left out
    assert np.allclose(odds, product_odds(model_dir, body), atol=1e-6)


def test_json_answers_the_products_shape_with_odds_highest_first(client, model_dir):
    applicants = json_applicants(metadata(), 2)
    answer = client.post("/invocations", json={"applicants": applicants})
    assert answer.status_code == 200
    body = json.loads(answer.get_data())
    assert set(body) == {"model_version", "catalog_version", "results"}
    assert [result["applicant_id"] for result in body["results"]] == ["a-1", "a-2"]
    odds = [entry["approval_odds"] for entry in body["results"][0]["odds"]]
    assert odds == sorted(odds, reverse=True)
    as_csv = csv_body(metadata(), 2)
    assert sorted(odds) == pytest.approx(sorted(product_odds(model_dir, as_csv)[0]), abs=1e-9)
    assert "card-02" not in {entry["card_id"] for entry in body["results"][0]["odds"]}


def test_single_applicant_form_is_accepted(client):
    [applicant] = json_applicants(metadata(), 1)
    answer = client.post("/invocations", json={"applicant": applicant})
    assert answer.status_code == 200
    assert len(json.loads(answer.get_data())["results"]) == 1


def test_other_content_types_are_refused_as_the_original_did(client):
    assert client.post("/invocations", data=b"x", content_type="text/plain").status_code == 415
