"""model_metadata.json reason_codes: optional; applicant features only; shared codes need one text; refused at load
with one sentence naming what is wrong."""

import pytest

from handler.model.errors import ArtifactError
from handler.model.reason_codes import reason_entries
from tests.support.artifacts import metadata, metadata_dict

INCOME = {"code": "INCOME", "text": "Income too low for this card"}
HISTORY = {"code": "HISTORY", "text": "Credit history"}


def test_without_a_table_every_feature_is_its_own_code_with_its_description():
    plain = metadata()
    assert plain.reason_codes == {}
    entries = reason_entries(plain.applicant_features, plain.reason_codes)
    assert list(entries) == list(plain.applicant_feature_names)
    assert entries["age"] == ("age", "age")  # the test schema's descriptions are the names


def test_a_table_names_codes_and_texts_and_features_may_share_a_code():
    table = {"annual_income": INCOME, "derogatory_reports": HISTORY, "major_cards": HISTORY}
    loaded = metadata(reason_codes=table)
    assert loaded.reason_codes == table
    entries = reason_entries(loaded.applicant_features, loaded.reason_codes)
    assert entries["annual_income"] == ("INCOME", "Income too low for this card")
    assert entries["major_cards"] == entries["derogatory_reports"] == ("HISTORY", "Credit history")
    assert entries["age"] == ("age", "age")
    assert loaded.as_dict()["reason_codes"] == table
    assert "reason_codes" not in metadata().as_dict()  # absent stays absent


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"annual_incme": INCOME}, "names unknown feature(s) 'annual_incme'; only applicant features"),
        (
            {"annual_fee": INCOME},
            "names card feature(s) 'annual_fee'; only applicant features can have reason codes "
            "(an applicant cannot change the card)",
        ),
        ({"age": {"code": "AGE"}}, 'entry \'age\' must be an object with exactly "code" and "text"'),
        ({"age": {"code": "AGE", "text": "Age", "weight": 2}}, 'exactly "code" and "text"'),
        ({"age": {"code": "", "text": "Age"}}, "'code' must be non-empty text of at most 64 characters"),
        ({"age": {"code": "AGE", "text": "x" * 201}}, "'text' must be non-empty text of at most 200 characters"),
        (
            {"age": {"code": "A", "text": "one"}, "dependents": {"code": "A", "text": "two"}},
            "code 'A' has different texts for 'age' and 'dependents'",
        ),
        ({"age": {"code": "dependents", "text": "Age"}}, "code 'dependents' has different texts"),  # a default's code
        (["age"], "reason_codes must be a JSON object"),
    ],
)
def test_a_bad_table_is_refused_at_load_with_one_sentence(table, says):
    with pytest.raises(ArtifactError) as raised:
        metadata(reason_codes=table)
    assert says in str(raised.value)
    assert str(raised.value).startswith("model_metadata.json: reason_codes")


def test_a_null_table_is_the_same_as_none():
    assert metadata(**{**metadata_dict(), "reason_codes": None}).reason_codes == {}
