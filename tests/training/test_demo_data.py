"""The demo data: real AER CreditCard applicants, paired with demo cards, labelled by one seeded process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.demo_data import (
    CARDS_PER_APPLICANT,
    approval_log_odds,
    build_demo_data,
    credit_standing,
    demo_catalog,
    load_applicants,
)
from training.features import APPLICANT_FEATURES, CARD_ID_COLUMN, LABEL_COLUMN


@pytest.fixture(scope="module")
def applicants() -> tuple[pd.DataFrame, np.ndarray]:
    return load_applicants()


def test_applicants_are_the_real_aer_rows_with_possible_ages_and_no_post_approval_spending(applicants):
    frame, accepted = applicants
    assert list(frame.columns) == [spec.name for spec in APPLICANT_FEATURES]
    assert len(frame) == 1319 - 7  # seven recorded ages are below one year
    assert frame["age"].min() >= 18
    assert frame["annual_income"].max() == 135_000  # AER income is in USD 10,000s
    assert accepted.sum() > len(frame) // 2 and (~accepted).sum() > 250  # 1,023 yes / 296 no before the age filter


def test_the_files_hold_exactly_the_training_columns(demo_data):
    expected = [*(spec.name for spec in APPLICANT_FEATURES), CARD_ID_COLUMN, LABEL_COLUMN]
    assert list(demo_data.train.columns) == expected
    assert list(demo_data.validation.columns) == expected
    assert set(demo_data.train[LABEL_COLUMN]) == {0, 1}


def test_each_applicant_applies_to_several_distinct_cards_in_one_channel_only(demo_data):
    both = pd.concat([demo_data.train, demo_data.validation], ignore_index=True)
    assert len(both) == demo_data.applicants * CARDS_PER_APPLICANT
    groups = both.groupby(np.arange(len(both)) // CARDS_PER_APPLICANT)
    assert (groups[CARD_ID_COLUMN].nunique() == CARDS_PER_APPLICANT).all()
    assert (groups["annual_income"].nunique() == 1).all()
    assert len(demo_data.validation) == round(demo_data.applicants * 0.2) * CARDS_PER_APPLICANT
    assert set(both[CARD_ID_COLUMN]) <= set(demo_catalog().card_ids)


def test_the_same_seed_gives_the_same_data_and_another_seed_different_data(demo_data):
    again = build_demo_data()
    other = build_demo_data(seed=8)
    pd.testing.assert_frame_equal(again.train, demo_data.train)
    pd.testing.assert_frame_equal(again.validation, demo_data.validation)
    assert not other.train[CARD_ID_COLUMN].equals(demo_data.train[CARD_ID_COLUMN])


def test_the_real_aer_outcome_and_profile_set_the_hidden_standing(applicants):
    frame, accepted = applicants
    standing = credit_standing(frame, accepted)
    assert np.median(standing[accepted]) > np.median(standing[~accepted]) + 1.5
    one = frame.iloc[[0, 0]].reset_index(drop=True)
    one.loc[1, "derogatory_reports"] += 2
    assert credit_standing(one, np.array([True, True]))[1] < credit_standing(one, np.array([True, True]))[0]


def card(**changes: float) -> pd.DataFrame:
    base = {
        "annual_fee": 0.0,
        "purchase_apr": 22.0,
        "min_income": 0.0,
        "credit_tier": 3.0,
        "rewards_rate": 1.0,
        "is_secured": 0.0,
        "is_student": 0.0,
    }
    return pd.DataFrame([{**base, **changes}])


def applicant(**changes: float) -> pd.DataFrame:
    return pd.DataFrame([{"annual_income": 40_000.0, "age": 35.0, **changes}])


@pytest.mark.parametrize(
    ("easier", "harder"),
    [
        (card(credit_tier=2), card(credit_tier=4)),
        (card(is_secured=1, credit_tier=1), card(credit_tier=1)),
        (card(min_income=30_000), card(min_income=60_000)),
        (card(annual_fee=95), card(annual_fee=695)),
    ],
)
def test_card_requirements_move_the_odds_the_way_an_issuer_would(easier, harder):
    standing = np.array([3.0])
    assert approval_log_odds(standing, applicant(), easier)[0] > approval_log_odds(standing, applicant(), harder)[0]


def test_student_cards_favour_young_applicants():
    standing = np.array([2.0])
    student = card(is_student=1, credit_tier=2)
    assert approval_log_odds(standing, applicant(age=20), student) > approval_log_odds(standing, applicant(), student)
    assert approval_log_odds(standing, applicant(), student) < approval_log_odds(
        standing, applicant(), card(credit_tier=2)
    )


def test_labels_follow_the_process_on_the_real_data(demo_data):
    both = pd.concat([demo_data.train, demo_data.validation], ignore_index=True)
    tiers = dict(zip(demo_catalog().card_ids, demo_catalog().features[:, 3], strict=True))
    approval_by_tier = both.groupby(both[CARD_ID_COLUMN].map(tiers))[LABEL_COLUMN].mean()
    assert approval_by_tier.is_monotonic_decreasing
    assert approval_by_tier[1.0] > 0.8 and approval_by_tier[5.0] < 0.1
