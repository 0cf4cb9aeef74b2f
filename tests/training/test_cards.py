"""The catalogue a job trains against, and the bundled demo catalogue of about 40 cards."""

from __future__ import annotations

import re

import numpy as np
import pytest

from training.cards import BUNDLED_CARDS, read_cards
from training.errors import TrainingError
from training.features import schema_metadata

SCHEMA = schema_metadata()


def test_without_a_cards_channel_the_bundled_demo_catalogue_is_used(tmp_path):
    cards = read_cards(tmp_path / "cards", SCHEMA)
    assert cards.origin == "bundled demo_cards.csv"
    assert cards.data == BUNDLED_CARDS.read_bytes()


def test_the_cards_channel_holds_exactly_one_catalogue(tmp_path):
    channel = tmp_path / "cards"
    channel.mkdir()
    mine = BUNDLED_CARDS.read_bytes().replace(b"Secured Starter Visa", b"Our Secured Card")
    (channel / "cards-2026-11.csv").write_bytes(mine)
    cards = read_cards(channel, SCHEMA)
    assert (cards.origin, cards.data, cards.catalog.card_names[0]) == (
        "cards/cards-2026-11.csv",
        mine,
        "Our Secured Card",
    )
    (channel / "older.csv").write_bytes(mine)
    with pytest.raises(TrainingError, match=r"^channel cards must hold exactly one \.csv file, it holds 2$"):
        read_cards(channel, SCHEMA)


def test_a_catalogue_the_model_cannot_use_is_refused_naming_the_file(tmp_path):
    channel = tmp_path / "cards"
    channel.mkdir()
    (channel / "cards.csv").write_text("card_id,card_name,active\nx,X,1\n")
    with pytest.raises(TrainingError) as error:
        read_cards(channel, SCHEMA)
    assert str(error.value) == (
        "cards/cards.csv: card catalogue lacks column(s) annual_fee, purchase_apr, min_income, credit_tier, "
        "rewards_rate, is_secured, is_student"
    )


def test_the_demo_catalogue_has_about_forty_realistic_cards():
    catalog = read_cards(BUNDLED_CARDS.parent / "no-cards-channel", SCHEMA).catalog
    column = {name: catalog.features[:, i] for i, name in enumerate(SCHEMA.card_feature_names)}
    assert 35 <= len(catalog) <= 45
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", card) for card in catalog.card_ids)
    assert {"cash-plus", "travel-elite", "secured-starter"} <= set(catalog.card_ids)
    assert set(np.unique(column["credit_tier"])) == {1, 2, 3, 4, 5}
    assert column["is_secured"].sum() >= 3 and column["is_student"].sum() >= 3
    secured = column["is_secured"] == 1
    assert (column["credit_tier"][secured] == 1).all()
    assert column["annual_fee"][column["credit_tier"] == 5].min() > column["annual_fee"][secured].max()
    assert not catalog.active.all()  # discontinued cards stay for the past applications made to them
