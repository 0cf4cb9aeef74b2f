"""docs/configuration.md is the settings' contract: every variable config.settings reads is in its tables, every
variable its container tables list is read, and each Default it states is the one from_env applies — so the page
cannot drift from the code."""

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, fields

import pytest

from config import settings as settings_module
from config.settings import REPO_ROOT, Settings, from_env

DOC = REPO_ROOT / "docs" / "configuration.md"
# The sections whose variables config.settings reads; the rest of the page is the launcher's and the tools'.
SECTIONS = ("Serving", "Card catalogue refresh", "Batch transform", "Metrics")
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
LITERAL = re.compile(r"`([^`]+)`")
# Defaults the page states in words (computed, or "not set"): what from_env({}) must then give.
DESCRIBED = {
    "SAGEMAKER_MODEL_SERVER_WORKERS": lambda s: s.workers == (os.cpu_count() or 1),  # "CPU count"
    "MODEL_SERVER_WORKERS": lambda s: s.workers == (os.cpu_count() or 1),
    "DEFAULT_CARDS": lambda s: s.default_cards is None,  # "every active card"
    "DEFAULT_REASONS": lambda s: s.default_reasons is None,  # "none"
    "CARD_VARIABLES_S3_URI": lambda s: s.card_variables_s3_uri is None,  # "unset"
    "AUDIT_LOG_PIPE": lambda s: s.audit_log_pipe is None,  # "unset"
    # "workers, lowered to 100 ÷ SAGEMAKER_MAX_PAYLOAD_IN_MB"
    "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": lambda s: (
        s.max_concurrent_transforms is None and s.concurrent_transforms == min(s.workers, 100 // s.max_payload_mb)
    ),
}


class Reads(Mapping[str, str]):
    """An environment that remembers every variable asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def documented() -> dict[str, str]:
    """{variable: its Default cell} of the container's tables; a row naming two variables gives both its Default."""
    rows: dict[str, str] = {}
    section = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line.removeprefix("## ").strip()
        elif section in SECTIONS and line.startswith("| `"):
            variables, default = (cell.strip() for cell in line.strip("|").split(" | ")[:2])
            for name in NAME.findall(variables):
                assert name not in rows, f"{name} is listed twice in {DOC.name}"
                rows[name] = default
    return rows


def read_by_settings() -> set[str]:
    env = Reads({})
    from_env(env)
    return env.asked


@pytest.fixture
def no_demo_model(tmp_path, monkeypatch):
    """Away from a checkout's build/demo-model, MODEL_DIR's default is SageMaker's /opt/ml/model, as documented."""
    monkeypatch.setattr(settings_module, "DEMO_MODEL_DIR", tmp_path / "no-demo-model")


def test_the_page_lists_the_four_sections_of_settings():
    assert len(documented()) >= 30, "the tables were not found: has the page's layout changed?"


def test_every_variable_the_settings_read_is_documented():
    missing = sorted(read_by_settings() - documented().keys())
    assert not missing, f"add to {DOC.name}: {', '.join(missing)}"


def test_every_documented_variable_is_read_by_the_settings_or_is_awss_own():
    # AWS_* rows document boto3's standard chain: boto3 reads those, not config.settings.
    unread = sorted(name for name in documented().keys() - read_by_settings() if not name.startswith("AWS_"))
    assert not unread, f"{DOC.name} documents variables config.settings does not read: {', '.join(unread)}"


def test_every_settings_field_comes_from_a_variable():
    """Settings has no defaults of its own: from_env states each one (a field with a default could hide a drift)."""
    defaulted = [each.name for each in fields(Settings) if (each.default, each.default_factory) != (MISSING, MISSING)]
    assert defaulted == []


def literal_defaults() -> list[tuple[str, str]]:
    """(variable, value) for each Default cell that starts with a value in backticks (the rest describe it)."""
    return [(name, LITERAL.match(cell).group(1)) for name, cell in documented().items() if cell.startswith("`")]


@pytest.mark.parametrize(("name", "value"), literal_defaults())
def test_setting_a_variable_to_its_documented_default_changes_nothing(name, value, no_demo_model):
    assert from_env({name: value}) == from_env({}), f"{DOC.name} says {name} defaults to {value!r}: from_env differs"


def test_a_default_described_in_words_is_what_from_env_gives(no_demo_model):
    described = {name for name, cell in documented().items() if not cell.startswith("`")} & read_by_settings()
    assert described == DESCRIBED.keys(), "a default stated in words needs its check in DESCRIBED"
    settings = from_env({})
    wrong = sorted(name for name, holds in DESCRIBED.items() if not holds(settings))
    assert not wrong, f"{DOC.name}'s Default for {', '.join(wrong)} is not what from_env gives"
