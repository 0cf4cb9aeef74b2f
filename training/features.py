"""The model's input schema: applicant and card features, their ranges, and the estimator's column order."""

from __future__ import annotations

from handler.model.metadata import SCHEMA_VERSION, FeatureSpec, ModelMetadata
from training.reason_codes import DEFAULT_REASON_CODES

CARD_ID_COLUMN = "card_id"
LABEL_COLUMN = "approved"

APPLICANT_FEATURES = (
    FeatureSpec("derogatory_reports", "number", min=0, max=50, description="Major derogatory reports on file"),
    FeatureSpec("age", "number", min=18, max=100, description="Age in years"),
    FeatureSpec("annual_income", "number", min=0, max=10_000_000, description="Yearly income, USD"),
    FeatureSpec("home_owner", "boolean", description="Owns their home"),
    FeatureSpec("self_employed", "boolean", description="Self-employed"),
    FeatureSpec("dependents", "number", min=0, max=20, description="Number of dependents"),
    FeatureSpec("months_at_address", "number", min=0, max=1200, description="Months living at current address"),
    FeatureSpec("major_cards", "number", min=0, max=20, description="Major credit cards held"),
    FeatureSpec("active_accounts", "number", min=0, max=200, description="Active credit accounts"),
)

CARD_FEATURES = (
    FeatureSpec("annual_fee", "number", min=0, max=1000, description="Annual fee, USD"),
    FeatureSpec("purchase_apr", "number", min=0, max=40, description="Purchase APR, percent"),
    FeatureSpec("min_income", "number", min=0, max=1_000_000, description="Minimum yearly income asked for, USD"),
    FeatureSpec(
        "credit_tier", "number", min=1, max=5, description="Credit the card targets: 1 rebuilding ... 5 excellent"
    ),
    FeatureSpec("rewards_rate", "number", min=0, max=10, description="Headline rewards rate, percent"),
    FeatureSpec("is_secured", "boolean", description="Secured by a cash deposit"),
    FeatureSpec("is_student", "boolean", description="Student card"),
)


def schema_metadata() -> ModelMetadata:
    """Metadata holding the schema only; training fills in version, time, metrics and data description."""
    names = tuple(spec.name for spec in APPLICANT_FEATURES + CARD_FEATURES)
    return ModelMetadata(
        schema_version=SCHEMA_VERSION,
        model_version="unversioned",
        created_at="",
        sklearn_version="",
        applicant_features=APPLICANT_FEATURES,
        card_features=CARD_FEATURES,
        feature_order=names,
        card_id_column=CARD_ID_COLUMN,
        metrics={},
        training_data={},
        reason_codes=DEFAULT_REASON_CODES,
    )
