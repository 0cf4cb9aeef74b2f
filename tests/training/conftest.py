"""Shared fixtures: a SageMaker-style /opt/ml root in a temporary directory, and the seeded demo data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from training.demo_data import DemoData, build_demo_data
from training.paths import TrainingPaths


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    return build_demo_data()


@pytest.fixture
def make_root(tmp_path: Path) -> Callable[..., TrainingPaths]:
    """Write channels and hyperparameters under tmp_path the way SageMaker lays them out."""

    def make(
        train: str | pd.DataFrame,
        *,
        validation: str | pd.DataFrame | None = None,
        cards: bytes | None = None,
        hyperparameters: dict[str, str] | None = None,
    ) -> TrainingPaths:
        paths = TrainingPaths(tmp_path / "opt-ml")
        channels: dict[str, str | bytes | pd.DataFrame | None] = {
            "train": train,
            "validation": validation,
            "cards": cards,
        }
        for channel, content in channels.items():
            if content is None:
                continue
            paths.channel(channel).mkdir(parents=True)
            target = paths.channel(channel) / ("card_variables.csv" if channel == "cards" else "applications.csv")
            if isinstance(content, pd.DataFrame):
                content.to_csv(target, index=False)
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if hyperparameters is not None:
            paths.hyperparameters.parent.mkdir(parents=True)
            paths.hyperparameters.write_text(json.dumps(hyperparameters), encoding="utf-8")
        return paths

    return make
