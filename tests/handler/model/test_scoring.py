"""predict_fn's core: every applicant paired with every selected card, scored in one vectorised call."""

import dataclasses

import numpy as np
import pytest

from handler.errors import RequestError
from handler.model import scoring
from handler.model.artifact import load_artifact
from handler.model.request import ScoringRequest
from handler.model.scoring import score, select_cards, unknown_cards
from tests.support.artifacts import applicant, pair_rows, write_artifact


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return load_artifact(write_artifact(tmp_path_factory.mktemp("model"), n_cards=6))


def request_for(artifact, n, **options):
    names = artifact.metadata.applicant_feature_names
    rows = [[applicant(age=20 + i, annual_income=10_000 * (i + 1))[name] for name in names] for i in range(n)]
    return ScoringRequest(applicant_ids=[f"a-{i}" for i in range(n)], features=np.array(rows, float), **options)


def test_odds_match_scoring_each_pair_by_hand(artifact):
    catalog = artifact.bundled_catalog
    request = request_for(artifact, 3)
    prediction = score(artifact, catalog, request, None)
    assert prediction.odds.shape == (3, 6)
    assert prediction.card_ids == catalog.card_ids
    order = artifact.metadata.feature_order
    for a in range(3):
        for c in range(6):
            values = dict(zip(artifact.metadata.applicant_feature_names, request.features[a], strict=True))
            values |= dict(zip(artifact.metadata.card_feature_names, catalog.features[c], strict=True))
            row = np.array([[values[name] for name in order]])
            assert prediction.odds[a, c] == pytest.approx(artifact.estimator.predict_proba(row)[0, 1], abs=1e-12)
    assert prediction.model_version == "test-1"
    assert prediction.catalog_version == catalog.version


def test_pairs_are_applicant_major(artifact):
    catalog = artifact.bundled_catalog
    pairs = pair_rows(artifact, np.arange(18.0).reshape(2, 9), catalog.features[:3])
    assert pairs.shape == (6, 16)
    assert pairs[:3, artifact.applicant_columns].tolist() == [list(range(9))] * 3
    assert pairs[3:, artifact.card_columns].tolist() == catalog.features[:3].tolist()


def test_card_selection_defaults_to_active_cards_in_catalogue_order(artifact):
    catalog = artifact.bundled_catalog
    assert select_cards(catalog, None, None).tolist() == list(range(6))
    assert select_cards(catalog, ("card-04", "card-01"), None).tolist() == [1, 4]
    assert select_cards(catalog, None, ("card-05", "card-02")).tolist() == [2, 5]
    assert select_cards(catalog, ("card-03",), ("card-05",)).tolist() == [3]


def test_unknown_cards_are_a_400_naming_each(artifact):
    with pytest.raises(RequestError) as raised:
        select_cards(artifact.bundled_catalog, ("card-01", "gold", "platinum"), None)
    error = raised.value
    assert (error.status, error.code) == (400, "unknown_card")
    assert [detail.problem for detail in error.details] == ["unknown card id 'gold'", "unknown card id 'platinum'"]
    assert error.details[0].field == "cards"


def test_unknown_cards_are_those_the_catalogue_lacks_in_the_order_asked(artifact):
    catalog = artifact.bundled_catalog
    assert unknown_cards(catalog, ("platinum", "card-01", "gold", "card-05")) == ["platinum", "gold"]
    assert unknown_cards(catalog, ("card-05", "card-00")) == []
    assert unknown_cards(catalog, ()) == []


def test_a_subset_is_scored_like_the_full_catalogue(artifact):
    catalog = artifact.bundled_catalog
    full = score(artifact, catalog, request_for(artifact, 4), None)
    subset = score(artifact, catalog, request_for(artifact, 4, cards=("card-05", "card-02")), None)
    assert subset.card_ids == ("card-02", "card-05")
    assert np.allclose(subset.odds, full.odds[:, [2, 5]])


@pytest.mark.parametrize("pairs_per_block", [1, 13, 1 << 16])
def test_scoring_in_blocks_of_applicants_equals_one_call_over_all_pairs(artifact, monkeypatch, pairs_per_block):
    """Blocks bound memory for 100 MB batches; they must not change, drop or reorder any odds."""
    catalog = artifact.bundled_catalog
    request = request_for(artifact, 7)
    pairs = pair_rows(artifact, request.features, catalog.features)
    whole = artifact.estimator.predict_proba(pairs)[:, 1].reshape(7, 6)
    monkeypatch.setattr(scoring, "PAIRS_PER_BLOCK", pairs_per_block)
    assert np.array_equal(score(artifact, catalog, request, None).odds, whole)


def test_no_selected_card_gives_an_empty_row_per_applicant(tmp_path):
    model = load_artifact(write_artifact(tmp_path, n_cards=6))
    catalog = dataclasses.replace(model.bundled_catalog, active=np.zeros(6, dtype=bool))
    prediction = score(model, catalog, request_for(model, 3), None)
    assert prediction.odds.shape == (3, 0)
    assert prediction.card_ids == ()
