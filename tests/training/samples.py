"""Hand-written training CSV rows for the tests: one approved and one declined application."""

from __future__ import annotations

HEADER = (
    "derogatory_reports,age,annual_income,home_owner,self_employed,dependents,"
    "months_at_address,major_cards,active_accounts,card_id,approved"
)
APPROVED_ROW = "0,34.5,52000,yes,no,1,48,1,6,cash-plus,1"
DECLINED_ROW = "3,22,14000,no,no,0,5,0,1,travel-elite,0"


def applications(*rows: str, header: str = HEADER) -> str:
    """A training CSV: the header, then the given rows."""
    return "\n".join([header, *rows]) + "\n"
