"""model_metadata.json `reason_codes`: the code and short text each applicant feature is reported under.

    "reason_codes": {"annual_income": {"code": "INCOME", "text": "Income too low for this card"}, ...}

Optional, as is every entry: a feature without one is reported under its own name as code and its metadata
description (else its name) as text. Several features may share a code (their contributions are then summed into one
reason), provided they give it the same text. Card features cannot have a code: reasons are what the applicant could
change. Anything else — an unknown feature, a card feature, a missing or over-long code or text, an extra key, one
code with two texts — is refused at load with one sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handler.model.errors import ArtifactError

MAX_CODE = 64
MAX_TEXT = 200
ENTRY_KEYS = ("code", "text")
WHERE = "model_metadata.json: reason_codes"


def parse_reason_codes(raw: Any, applicant_features: Sequence[Any], card_features: Sequence[Any]) -> dict[str, Any]:
    """The validated explicit table (feature → {"code", "text"}); {} when absent. Features are FeatureSpecs."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ArtifactError(f'{WHERE} must be a JSON object: {{"<applicant feature>": {{"code": ..., "text": ...}}}}')
    applicant = [spec.name for spec in applicant_features]
    card = {spec.name for spec in card_features}
    unknown = [name for name in raw if name not in applicant]
    if unknown:
        cards = [name for name in unknown if name in card]
        kind = "card feature(s)" if cards else "unknown feature(s)"
        reason = "an applicant cannot change the card" if cards else f"applicant features: {', '.join(applicant)}"
        raise ArtifactError(
            f"{WHERE} names {kind} {', '.join(map(repr, cards or unknown))}; only applicant features "
            f"can have reason codes ({reason})"
        )
    table = {name: _entry(name, entry) for name, entry in raw.items()}
    texts: dict[str, tuple[str, str]] = {}
    for name, (code, text) in reason_entries(applicant_features, table).items():
        first = texts.setdefault(code, (name, text))
        if first[1] != text:
            raise ArtifactError(
                f"{WHERE}: code {code!r} has different texts for {first[0]!r} and {name!r} (features "
                "without an entry use their name as code and their description as text)"
            )
    return table


def reason_entries(applicant_features: Sequence[Any], table: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """(code, text) of every applicant feature, metadata order: its table entry, else the default."""
    entries = {}
    for spec in applicant_features:
        given = table.get(spec.name)
        entries[spec.name] = (given["code"], given["text"]) if given else (spec.name, spec.description or spec.name)
    return entries


def _entry(name: str, entry: Any) -> dict[str, str]:
    if not isinstance(entry, dict) or sorted(entry) != sorted(ENTRY_KEYS):
        raise ArtifactError(f'{WHERE} entry {name!r} must be an object with exactly "code" and "text"')
    for key, limit in (("code", MAX_CODE), ("text", MAX_TEXT)):
        value = entry[key]
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise ArtifactError(f"{WHERE} entry {name!r}: {key!r} must be non-empty text of at most {limit} characters")
    return {"code": entry["code"], "text": entry["text"]}
