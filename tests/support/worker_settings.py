"""Settings for a worker built in-process (model_fn, HandlerService) rather than started by MMS."""

from __future__ import annotations

from pathlib import Path

import pytest

import config


def use_worker_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **settings: str) -> None:
    """config.load() answers `settings` for the rest of the test, with the worker's control and cache folders in
    `tmp_path` so that nothing lands in the host's defaults."""
    env = {"CONTROL_DIR": str(tmp_path / "control"), "CARD_VARIABLES_CACHE_DIR": str(tmp_path / "cache"), **settings}
    monkeypatch.setattr(config, "load", lambda: config.from_env(env))
