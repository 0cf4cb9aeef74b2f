"""The demo model's schema: exactly the features the serving contract documents, in a valid metadata shape."""

from __future__ import annotations

from handler.model.metadata import ModelMetadata
from training.features import schema_metadata


def test_the_feature_names_and_order_are_the_contracts():
    metadata = schema_metadata()
    assert metadata.applicant_feature_names == (
        "derogatory_reports",
        "age",
        "annual_income",
        "home_owner",
        "self_employed",
        "dependents",
        "months_at_address",
        "major_cards",
        "active_accounts",
    )
    assert metadata.card_feature_names == (
        "annual_fee",
        "purchase_apr",
        "min_income",
        "credit_tier",
        "rewards_rate",
        "is_secured",
        "is_student",
    )
    assert metadata.feature_order == metadata.applicant_feature_names + metadata.card_feature_names
    assert metadata.card_id_column == "card_id"


def test_every_feature_is_required_and_numbers_are_bounded():
    metadata = schema_metadata()
    for spec in metadata.applicant_features + metadata.card_features:
        assert spec.required
        assert spec.description
        assert (spec.min is not None and spec.max is not None) == (spec.type == "number")


def test_the_schema_survives_the_servers_metadata_validation():
    raw = {**schema_metadata().as_dict(), "model_version": "v", "created_at": "now", "sklearn_version": "1"}
    assert ModelMetadata.from_dict(raw).feature_order == schema_metadata().feature_order
