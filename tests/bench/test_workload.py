"""Bench bodies: realistic applicants that the product accepts, inside every metadata range."""

from __future__ import annotations

import json

import numpy as np

from bench.workload import CSV, JSON, csv_body, feature_columns, json_applicants, request_types
from tests.support.artifacts import metadata


def test_every_value_is_inside_its_metadata_range_and_booleans_are_0_or_1():
    meta = metadata()
    columns = feature_columns(meta, 20_000)
    assert list(columns) == list(meta.applicant_feature_names)
    for spec in meta.applicant_features:
        values = columns[spec.name]
        assert len(values) == 20_000
        if spec.type == "boolean":
            assert set(np.unique(values)) == {0, 1}
        else:
            assert values.min() >= spec.min and values.max() <= spec.max
            assert len(np.unique(values)) > 1  # a spread, not a constant


def test_unknown_numeric_features_are_drawn_inside_their_range():
    raw_features = [{"name": "utilisation", "type": "number", "required": True, "min": 0.5, "max": 0.75}]
    meta = metadata(
        applicant_features=raw_features,
        feature_order=["utilisation", *(name for name in metadata().card_feature_names)],
    )
    values = feature_columns(meta, 1000)["utilisation"]
    assert values.min() >= 0.5 and values.max() <= 0.75


def test_csv_body_has_one_headerless_line_per_applicant_in_metadata_order():
    meta = metadata()
    lines = csv_body(meta, 1000).decode().splitlines()
    assert len(lines) == 1000
    columns = feature_columns(meta, 1000)
    first = [float(value) for value in lines[0].split(",")]
    assert first == [float(columns[name][0]) for name in meta.applicant_feature_names]


def test_integral_features_are_written_as_integers():
    line = csv_body(metadata(), 1).decode().strip()
    assert "." not in line and "e" not in line


def test_json_applicants_carry_an_id_json_booleans_and_every_feature():
    meta = metadata()
    [applicant] = json_applicants(meta, 1)
    assert applicant["applicant_id"] == "a-1"
    assert set(applicant) == {"applicant_id", *meta.applicant_feature_names}
    assert isinstance(applicant["home_owner"], bool)
    json.dumps(applicant)  # plain Python values only


def test_bodies_are_reproducible_for_a_seed():
    meta = metadata()
    assert csv_body(meta, 50, seed=3) == csv_body(meta, 50, seed=3)
    assert csv_body(meta, 50, seed=3) != csv_body(meta, 50, seed=4)


def test_the_request_types_of_the_table():
    json_one, explained, csv_50, csv_1000 = request_types(metadata())
    assert (json_one.content_type, json_one.accept, json_one.applicants) == (JSON, JSON, 1)
    assert len(json.loads(json_one.body)["applicants"]) == 1
    assert json.loads(explained.body) == {**json.loads(json_one.body), "reasons": 4}
    assert explained.ours_only and not json_one.ours_only
    assert (csv_50.content_type, csv_50.accept, csv_50.body.count(b"\n")) == (CSV, CSV, 50)
    assert (csv_1000.applicants, csv_1000.body.count(b"\n")) == (1000, 1000)
