"""Reason codes of a pair: the applicant's codes with negative (summed) contributions, most negative first, at most N;
features sharing a code are summed into one reason."""

import dataclasses

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import config
from handler.errors import RequestError
from handler.model.metadata import ModelMetadata
from handler.model.reasons import Explainer, ReasonGroups, with_reasons
from handler.model.request import ScoringRequest
from handler.model.scoring import score
from handler.model.tree_shap import TreeExplainer
from tests.handler.model.test_tree_shap import synthetic_applicants

HISTORY = {"code": "HISTORY", "text": "Credit history"}
SHARED = {"derogatory_reports": HISTORY, "major_cards": HISTORY, "active_accounts": HISTORY}


def with_table(metadata: ModelMetadata, table: dict) -> ModelMetadata:
    return ModelMetadata.from_dict({**metadata.as_dict(), "reason_codes": table})


def explainer_of(artifact, metadata: ModelMetadata) -> Explainer:
    return Explainer(artifact.estimator, metadata, artifact.applicant_columns, artifact.card_columns)


def test_codes_are_in_order_of_their_first_feature_and_name_their_features(artifact):
    groups = ReasonGroups.of(with_table(artifact.metadata, SHARED))
    assert [code.code for code in groups.codes] == [
        "HISTORY",
        "age",
        "annual_income",
        "home_owner",
        "self_employed",
        "dependents",
        "months_at_address",
    ]
    assert groups.codes[0].feature == "derogatory_reports,major_cards,active_accounts"
    assert groups.codes[0].text == "Credit history"
    assert groups.codes[2].text == "Yearly income, USD"  # a feature without an entry: its description
    assert groups.members.shape == (len(artifact.metadata.applicant_features) + 1, 7)
    assert groups.members[-1].sum() == 0  # the card features' column is in no code


@pytest.mark.parametrize("limit", [1, 4, 8])
@pytest.mark.parametrize("table", [{}, SHARED])
def test_reasons_are_the_most_negative_grouped_contributions(artifact, limit, table):
    metadata = with_table(artifact.metadata, table)
    explainer = explainer_of(artifact, metadata)
    applicants = synthetic_applicants(40, seed=21)
    cards = artifact.bundled_catalog.features
    rows = np.arange(len(cards))
    reasons = explainer.explain(applicants, cards, rows, limit)
    contributions = TreeExplainer.build(artifact.estimator, artifact.applicant_columns, artifact.card_columns).grid(
        applicants, cards, rows
    )
    groups = ReasonGroups.of(metadata)
    members = [np.flatnonzero(groups.members[:, g]) for g in range(len(groups.codes))]
    nothing_against = 0
    for a in range(len(applicants)):
        for c in rows:
            summed = [contributions[a, c, columns].sum() for columns in members]
            negative = sorted((value, g) for g, value in enumerate(summed) if value < 0)[:limit]
            pairs = zip(reasons.index[a, c].tolist(), reasons.contributions[a, c].tolist(), strict=True)
            given = [(value, g) for g, value in pairs if g >= 0]
            assert [g for _, g in given] == [g for _, g in negative]
            assert [v for v, _ in given] == pytest.approx([v for v, _ in negative], abs=1e-12)
            nothing_against += not given
    assert reasons.index.shape == (40, len(rows), min(limit, len(groups.codes)))
    assert nothing_against < 40 * len(rows)


def listed(reasons, a: int, c: int) -> dict[str, float]:
    """The pair's reasons as {code: contribution}."""
    pairs = zip(reasons.index[a, c].tolist(), reasons.contributions[a, c].tolist(), strict=True)
    return {reasons.codes[g].code: value for g, value in pairs if g >= 0}


def test_a_shared_code_sums_its_features(artifact):
    applicants = synthetic_applicants(30, seed=2)
    cards = artifact.bundled_catalog.features
    rows = np.arange(len(cards))
    shared = explainer_of(artifact, with_table(artifact.metadata, SHARED)).explain(applicants, cards, rows, 8)
    engine = TreeExplainer.build(artifact.estimator, artifact.applicant_columns, artifact.card_columns)
    contributions = engine.grid(applicants, cards, rows)
    positions = [artifact.metadata.applicant_feature_names.index(name) for name in SHARED]
    seen = 0
    for a in range(len(applicants)):
        for c in rows:
            total = contributions[a, c, positions].sum()
            reasons = listed(shared, a, c)
            assert not set(reasons) & set(SHARED)  # the features are reported under their code only
            if total < 0:
                assert reasons["HISTORY"] == pytest.approx(total, abs=1e-12)
                seen += 1
            else:
                assert "HISTORY" not in reasons
    assert seen


def test_with_reasons_follows_the_selected_cards_and_leaves_a_plain_request_alone(artifact):
    explainer = explainer_of(artifact, artifact.metadata)
    catalog = artifact.bundled_catalog
    request = ScoringRequest(["a"], synthetic_applicants(1, seed=3), cards=(catalog.card_ids[9], catalog.card_ids[2]))
    settings = config.from_env({})
    plain = score(artifact, catalog, request, None)
    assert with_reasons(plain, explainer, catalog, request, settings) is plain
    asked = dataclasses.replace(request, reasons=3)
    explained = with_reasons(score(artifact, catalog, asked, None), explainer, catalog, asked, settings)
    assert explained.card_ids == (catalog.card_ids[2], catalog.card_ids[9])  # catalogue order
    every = explainer.explain(request.features, catalog.features, np.arange(len(catalog)), 3)
    assert np.array_equal(explained.reasons.index[0], every.index[0, [2, 9]])


def test_default_reasons_apply_when_a_request_asks_for_none(artifact):
    explainer = explainer_of(artifact, artifact.metadata)
    catalog = artifact.bundled_catalog
    settings = config.from_env({"DEFAULT_REASONS": "2", "DEFAULT_CARDS": ",".join(catalog.card_ids[:5])})
    request = ScoringRequest(["a"], synthetic_applicants(1, seed=3))
    explained = with_reasons(
        score(artifact, catalog, request, settings.default_cards), explainer, catalog, request, settings
    )
    assert explained.reasons.index.shape == (1, 5, 2)
    asked = dataclasses.replace(request, reasons=5)
    assert with_reasons(
        score(artifact, catalog, asked, None), explainer, catalog, asked, settings
    ).reasons.index.shape == (1, 5, 5)


def test_a_model_that_is_not_a_gradient_boosted_ensemble_refuses_reasons(artifact, caplog):
    stand_in = LogisticRegression().fit(np.eye(2), [0, 1])
    explainer = Explainer(stand_in, artifact.metadata, artifact.applicant_columns, artifact.card_columns)
    assert "reason codes: unavailable" in caplog.text
    with pytest.raises(RequestError) as raised:
        explainer.explain(synthetic_applicants(1, seed=1), artifact.bundled_catalog.features, np.arange(2), 2)
    assert (raised.value.status, raised.value.code, raised.value.details[0].field) == (400, "invalid_value", "reasons")


def test_a_large_model_is_explained_from_its_first_request_and_a_huge_one_refuses(artifact, monkeypatch, caplog):
    from handler.model import reasons

    monkeypatch.setattr(reasons, "EAGER_NODES", 10)
    with caplog.at_level("INFO", logger="handler.model.reasons"):
        later = explainer_of(artifact, artifact.metadata)
    assert later._engine is None
    assert "one table row per tree (built on first use)" in caplog.text
    applicants, cards = synthetic_applicants(2, seed=4), artifact.bundled_catalog.features
    first = later.explain(applicants, cards, np.arange(5), 3)
    assert later._engine is not None
    monkeypatch.setattr(reasons, "EAGER_NODES", 10**9)
    assert np.array_equal(
        explainer_of(artifact, artifact.metadata).explain(applicants, cards, np.arange(5), 3).index, first.index
    )

    monkeypatch.setattr(reasons, "MAX_LEAVES", 100)
    huge = explainer_of(artifact, artifact.metadata)
    with pytest.raises(RequestError) as raised:
        huge.explain(applicants, cards, np.arange(5), 3)
    assert "leaves are more than the 100 one request can walk" in raised.value.message
