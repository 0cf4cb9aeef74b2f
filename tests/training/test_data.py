"""Training CSVs become the estimator's matrix (card features joined by card_id), or a located error."""

from __future__ import annotations

import numpy as np
import pytest

from tests.training.samples import APPROVED_ROW, DECLINED_ROW, HEADER, applications
from training.cards import read_cards
from training.data import read_channel, require_both_classes
from training.errors import TrainingError
from training.features import schema_metadata

SCHEMA = schema_metadata()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return read_cards(tmp_path_factory.mktemp("no-cards-channel") / "cards", SCHEMA).catalog


def read(tmp_path, catalog, **files: str):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return read_channel(tmp_path, "train", SCHEMA, catalog)


def test_rows_become_features_in_feature_order_with_the_cards_features_joined(tmp_path, catalog):
    dataset = read(tmp_path, catalog, **{"applications.csv": applications(APPROVED_ROW, DECLINED_ROW)})

    assert dataset.labels.tolist() == [1, 0]
    row = dict(zip(SCHEMA.feature_order, dataset.features[0], strict=True))
    assert row == {
        "derogatory_reports": 0,
        "age": 34.5,
        "annual_income": 52000,
        "home_owner": 1,
        "self_employed": 0,
        "dependents": 1,
        "months_at_address": 48,
        "major_cards": 1,
        "active_accounts": 6,
        "annual_fee": 0,
        "purchase_apr": 22.99,
        "min_income": 25000,
        "credit_tier": 3,
        "rewards_rate": 1.5,
        "is_secured": 0,
        "is_student": 0,
    }
    travel_elite = catalog.features[catalog.index["travel-elite"]]
    card_columns = [SCHEMA.feature_order.index(name) for name in SCHEMA.card_feature_names]
    assert np.array_equal(dataset.features[1, card_columns], travel_elite)
    assert dataset.features.dtype == np.float64


def test_columns_are_matched_by_name_and_extra_columns_ignored(tmp_path, catalog):
    names = HEADER.split(",")
    reordered = ",".join(["note", *reversed(names)])
    values = ",".join(["first application", *reversed(APPROVED_ROW.split(","))])
    dataset = read(tmp_path, catalog, **{"a.csv": applications(values, header=reordered)})
    assert dataset.labels.tolist() == [1]
    assert dataset.features[0, SCHEMA.feature_order.index("annual_income")] == 52000


def test_every_csv_file_of_the_channel_is_read_in_name_order_and_summarised(tmp_path, catalog):
    dataset = read(
        tmp_path,
        catalog,
        **{"2.csv": applications(DECLINED_ROW), "1.csv": applications(APPROVED_ROW, APPROVED_ROW) + "\n\n"},
    )
    assert dataset.labels.tolist() == [1, 1, 0]
    assert [(file.name, file.rows) for file in dataset.files] == [("train/1.csv", 2), ("train/2.csv", 1)]
    assert all(len(file.sha256) == 64 for file in dataset.files)


def test_booleans_and_labels_take_the_contracts_spellings(tmp_path, catalog):
    rows = ["0,34.5,52000,TRUE,0,1,48,1,6,cash-plus,yes", "3,22,14000,No,1,0,5,0,1,travel-elite,false"]
    dataset = read(tmp_path, catalog, **{"a.csv": applications(*rows)})
    home, self_employed = SCHEMA.feature_order.index("home_owner"), SCHEMA.feature_order.index("self_employed")
    assert dataset.features[:, [home, self_employed]].tolist() == [[1, 0], [0, 1]]
    assert dataset.labels.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("0,34,,1,0,1,48,1,6,cash-plus,1", "column annual_income: is required"),
        ("0,34,inf,1,0,1,48,1,6,cash-plus,1", "column annual_income: must be a number"),
        ("0,17,52000,1,0,1,48,1,6,cash-plus,1", "column age: must be between 18 and 100"),
        (
            "0,34,52000,maybe,0,1,48,1,6,cash-plus,1",
            "column home_owner: must be a boolean: true/false or 1/0 (CSV also yes/no)",
        ),
        ("0,34,52000,1,0,1,48,1,6,,1", "column card_id: card id '' is not in the card catalogue"),
        ("0,34,52000,1,0,1,48,1,6,cash-plus", "10 values, the header has 11"),
    ],
)
def test_a_bad_row_is_named_by_file_line_and_column(tmp_path, catalog, row, problem):
    with pytest.raises(TrainingError) as error:
        read(tmp_path, catalog, **{"a.csv": applications(APPROVED_ROW, row)})
    separator = ": " if problem[0].isdigit() else ", "
    assert str(error.value) == f"train/a.csv line 3{separator}{problem}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"  \n", "train/a.csv is empty"),
        (b"\xff\xfeage\n", "train/a.csv is not UTF-8 text (byte 0)"),
        (f"{HEADER},age\n".encode(), "train/a.csv line 1: column(s) age appear more than once"),
        (f'{HEADER}\n"0,34\n'.encode(), "train/a.csv line 2: not valid CSV: unexpected end of data"),
    ],
)
def test_a_file_that_is_not_a_table_of_applications_is_refused(tmp_path, catalog, content, message):
    (tmp_path / "a.csv").write_bytes(content)
    with pytest.raises(TrainingError) as error:
        read_channel(tmp_path, "train", SCHEMA, catalog)
    assert str(error.value) == message


def test_both_label_classes_are_required(tmp_path, catalog):
    both = read(tmp_path, catalog, **{"a.csv": applications(APPROVED_ROW, DECLINED_ROW)})
    require_both_classes(both, "train")
    with pytest.raises(TrainingError, match="^train/a.csv: column approved is 0 on all 1 rows of channel train; "):
        require_both_classes(both.subset(np.array([1])), "train")


def test_of_several_bad_cells_the_first_row_then_the_first_column_is_reported(tmp_path, catalog):
    rows = ["0,17,52000,1,0,1,48,1,6,cash-plus,1", "0,34,52000,1,0,99,48,1,x,cash-plus,1"]
    with pytest.raises(TrainingError) as error:
        read(tmp_path, catalog, **{"a.csv": applications(APPROVED_ROW, *reversed(rows))})
    assert str(error.value) == "train/a.csv line 3, column dependents: must be between 0 and 20"
