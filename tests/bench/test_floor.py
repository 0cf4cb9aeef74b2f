"""The in-process floor: the fastest of a bounded number of calls through the product's inference functions."""

from __future__ import annotations

import numpy as np

from bench.floor import Floor, best_of
from bench.workload import CSV, RequestType, csv_body
from handler.model.artifact import load_artifact
from handler.model.request import ScoringRequest
from handler.model.scoring import score
from tests.support.artifacts import metadata, write_artifact


def test_best_of_calls_at_most_repeats_times_and_returns_the_fastest():
    calls = []
    fastest = best_of(lambda: calls.append(1), repeats=5, budget_s=60.0)
    assert len(calls) == 5
    assert 0 <= fastest < 60.0


def test_best_of_stops_once_the_budget_is_spent_but_always_measures_once():
    calls = []
    best_of(lambda: calls.append(1), repeats=1000, budget_s=0.0)
    assert len(calls) == 1


def test_the_floor_scores_the_body_as_the_product_does(tmp_path):
    model_dir = write_artifact(tmp_path / "model")
    body = csv_body(metadata(), 30)
    request = RequestType("csv-30", "30 applicants", body, CSV, CSV, 30)
    lines = Floor(model_dir).score(request).decode().splitlines()

    artifact = load_artifact(model_dir)
    features = np.loadtxt(body.decode().splitlines(), delimiter=",", ndmin=2)
    expected = score(artifact, artifact.bundled_catalog, ScoringRequest([None] * 30, features), None).odds
    assert np.allclose([[float(value) for value in line.split(",")] for line in lines], expected, atol=1e-6)
