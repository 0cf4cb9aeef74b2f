"""The reason codes the trainer writes into model_metadata.json for the demo schema (handler/model/reason_codes.py).

Codes in the style of adverse-action reason statements; features that describe one thing share a code, so their
contributions are reported together (residence: ownership and time at the address; credit history: cards and
accounts held).
"""

from __future__ import annotations

RESIDENCE = {"code": "RESIDENCE", "text": "Housing: home ownership and time at current address"}
HISTORY = {"code": "CREDIT_HISTORY", "text": "Limited credit history: cards and accounts held"}

DEFAULT_REASON_CODES: dict[str, dict[str, str]] = {
    "derogatory_reports": {"code": "DEROGATORY", "text": "Derogatory reports on the credit file"},
    "age": {"code": "AGE", "text": "Age"},
    "annual_income": {"code": "INCOME", "text": "Income insufficient for this card"},
    "home_owner": RESIDENCE,
    "months_at_address": RESIDENCE,
    "self_employed": {"code": "EMPLOYMENT", "text": "Type of employment"},
    "dependents": {"code": "DEPENDENTS", "text": "Number of dependents"},
    "major_cards": HISTORY,
    "active_accounts": HISTORY,
}
