"""The /opt/ml layout, its SAGEMAKER_BASE_DIR override, and how a channel's files are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.errors import TrainingError
from training.paths import TrainingPaths, channel_files


def test_the_root_is_opt_ml_unless_sagemaker_base_dir_moves_it():
    assert TrainingPaths.from_env({}).root == Path("/opt/ml")
    assert TrainingPaths.from_env({"SAGEMAKER_BASE_DIR": "  "}).root == Path("/opt/ml")
    assert TrainingPaths.from_env({"SAGEMAKER_BASE_DIR": "/tmp/ml"}).root == Path("/tmp/ml")


def test_the_layout_is_sagemakers():
    paths = TrainingPaths(Path("/opt/ml"))
    assert paths.channel("train") == Path("/opt/ml/input/data/train")
    assert paths.hyperparameters == Path("/opt/ml/input/config/hyperparameters.json")
    assert paths.model_dir == Path("/opt/ml/model")
    assert paths.failure == Path("/opt/ml/output/failure")


def test_channel_files_are_the_csv_files_at_any_depth_in_name_order(tmp_path):
    for name in ("b.csv", "a/z.CSV", "a.csv", "manifest.json", ".hidden/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [path.relative_to(tmp_path).as_posix() for path in channel_files(tmp_path, "train")] == [
        "a/z.CSV",
        "a.csv",
        "b.csv",
    ]


def test_a_missing_or_csv_less_channel_is_an_error(tmp_path):
    with pytest.raises(TrainingError, match=f"^channel train: directory {tmp_path}/nope does not exist$"):
        channel_files(tmp_path / "nope", "train")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(TrainingError, match=f"^channel train: {tmp_path} holds no .csv files$"):
        channel_files(tmp_path, "train")
