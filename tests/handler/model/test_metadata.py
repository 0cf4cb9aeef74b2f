"""model_metadata.json schema v1: what is accepted, and one clear message for what is not."""

import json

import pytest

from handler.model.errors import ArtifactError
from handler.model.metadata import FLOAT32_MAX, ModelMetadata, read_metadata
from tests.support.artifacts import metadata_dict


def test_a_complete_document_round_trips():
    parsed = ModelMetadata.from_dict(metadata_dict())
    assert parsed.applicant_feature_names[0] == "derogatory_reports"
    assert parsed.card_feature_names[-1] == "is_student"
    assert ModelMetadata.from_dict(parsed.as_dict()) == parsed


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_an_unknown_schema_version_is_rejected(version):
    with pytest.raises(ArtifactError, match="schema_version"):
        ModelMetadata.from_dict(metadata_dict(schema_version=version))


def test_feature_order_must_name_every_feature_once():
    raw = metadata_dict()
    raw["feature_order"] = raw["feature_order"][:-1]
    with pytest.raises(ArtifactError, match="feature_order"):
        ModelMetadata.from_dict(raw)


def test_feature_definitions_are_checked():
    raw = metadata_dict()
    raw["applicant_features"][0]["type"] = "string"
    with pytest.raises(ArtifactError, match="derogatory_reports.*expected number or boolean"):
        ModelMetadata.from_dict(raw)
    raw = metadata_dict()
    raw["applicant_features"][1].update(min=90, max=20)
    with pytest.raises(ArtifactError, match="min > max"):
        ModelMetadata.from_dict(raw)


def test_an_optional_feature_needs_a_default():
    raw = metadata_dict()
    raw["applicant_features"][4]["required"] = False
    with pytest.raises(ArtifactError, match="needs a 'default'"):
        ModelMetadata.from_dict(raw)
    raw["applicant_features"][4]["default"] = 0
    assert ModelMetadata.from_dict(raw).applicant_features[4].default == 0


def test_reserved_names_cannot_be_features():
    raw = metadata_dict()
    raw["applicant_features"][0]["name"] = "applicant_id"
    raw["feature_order"][0] = "applicant_id"
    with pytest.raises(ArtifactError, match="reserved"):
        ModelMetadata.from_dict(raw)


def test_reading_names_the_file_on_failure(tmp_path):
    with pytest.raises(ArtifactError, match="model_metadata.json is missing"):
        read_metadata(tmp_path / "model_metadata.json")
    (tmp_path / "model_metadata.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid UTF-8 JSON"):
        read_metadata(tmp_path / "model_metadata.json")
    (tmp_path / "model_metadata.json").write_text(json.dumps(metadata_dict()))
    assert read_metadata(tmp_path / "model_metadata.json").model_version == "test-1"


@pytest.mark.parametrize(
    ("bounds", "problem"),
    [
        pytest.param({"max": None}, "it has max null", id="no max"),
        pytest.param({"min": None}, "it has min null", id="no min"),
        pytest.param({"max": 1e39}, "it has max 1e+39", id="max beyond float32"),
        pytest.param({"min": -1e39}, "it has min -1e+39", id="min beyond float32"),
    ],
)
def test_every_number_feature_has_finite_bounds_the_estimator_can_compare(bounds, problem):
    raw = metadata_dict()
    raw["card_features"][2].update(bounds)
    with pytest.raises(ArtifactError, match="card feature 'min_income' needs a finite '(min|max)' within float32") as e:
        ModelMetadata.from_dict(raw)
    assert str(e.value).endswith(problem)


def test_bounds_up_to_float32s_largest_value_are_accepted():
    raw = metadata_dict()
    raw["applicant_features"][2].update(min=-FLOAT32_MAX, max=FLOAT32_MAX)
    assert ModelMetadata.from_dict(raw).applicant_features[2].max == FLOAT32_MAX


def test_an_optional_features_default_lies_within_its_bounds():
    raw = metadata_dict()
    raw["applicant_features"][1].update(required=False, default=12)
    with pytest.raises(ArtifactError, match="'age' has a default 12 outside its \\[min, max\\]"):
        ModelMetadata.from_dict(raw)
