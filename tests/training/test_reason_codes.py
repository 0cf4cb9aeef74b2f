"""The trainer's default reason codes: every demo applicant feature has one, related features share a code, and the
table passes the server's own load-time checks."""

from handler.model.metadata import ModelMetadata
from handler.model.reason_codes import reason_entries
from training.features import schema_metadata
from training.reason_codes import DEFAULT_REASON_CODES


def test_the_schema_carries_a_code_for_every_applicant_feature():
    schema = schema_metadata()
    assert set(DEFAULT_REASON_CODES) == set(schema.applicant_feature_names)
    raw = {**schema.as_dict(), "model_version": "v", "created_at": "now", "sklearn_version": "1"}
    assert ModelMetadata.from_dict(raw).reason_codes == DEFAULT_REASON_CODES


def test_related_features_share_a_code():
    entries = reason_entries(schema_metadata().applicant_features, DEFAULT_REASON_CODES)
    assert entries["home_owner"] == entries["months_at_address"]
    assert entries["major_cards"] == entries["active_accounts"]
    assert len({code for code, _ in entries.values()}) == 7


def test_the_demo_artefact_has_the_table(artifact):
    assert artifact.metadata.reason_codes == DEFAULT_REASON_CODES
