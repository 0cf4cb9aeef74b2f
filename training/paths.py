"""Where SageMaker's training contract puts inputs and expects outputs, under one overridable root.

SageMaker mounts everything under /opt/ml; SAGEMAKER_BASE_DIR (the name the SageMaker training toolkit
and the serving settings use) moves that root for local runs and tests. It is read here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from training.errors import TrainingError

ROOT_ENV = "SAGEMAKER_BASE_DIR"
DEFAULT_ROOT = Path("/opt/ml")
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"
CARDS_CHANNEL = "cards"


@dataclass(frozen=True)
class TrainingPaths:
    root: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TrainingPaths:
        value = env.get(ROOT_ENV, "").strip()
        return cls(Path(value) if value else DEFAULT_ROOT)

    def channel(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    @property
    def hyperparameters(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"


def channel_files(directory: Path, channel: str) -> list[Path]:
    """The channel's CSV files (any depth, sorted so row order is reproducible); other files are ignored."""
    if not directory.is_dir():
        raise TrainingError(f"channel {channel}: directory {directory} does not exist")
    files = sorted(path for path in directory.rglob("*") if path.is_file() and path.suffix.lower() == ".csv")
    if not files:
        raise TrainingError(f"channel {channel}: {directory} holds no .csv files")
    return files
