"""`python -m training.demo_model --out build/demo-model`: build the demo artefact with the real trainer.

Writes the seeded demo data as SageMaker channels under a temporary /opt/ml-like root, runs the same
`train` the container runs, and moves the resulting model directory to --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from config.settings import DEMO_MODEL_DIR
from handler.model.catalog import CATALOG_FILE
from training.cards import BUNDLED_CARDS
from training.demo_data import DEFAULT_SEED, DemoData, build_demo_data
from training.paths import CARDS_CHANNEL, TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingPaths
from training.train import train

DATA_FILE = "applications.csv"
# Strings, exactly as SageMaker passes hyperparameters.
DEMO_HYPERPARAMETERS = {"n_estimators": "300", "learning_rate": "0.05", "max_depth": "3", "min_samples_leaf": "20"}


def write_channels(paths: TrainingPaths, data: DemoData, seed: int, overrides: dict[str, str] | None = None) -> None:
    """The demo data as SageMaker would mount it: train, validation and cards channels plus hyperparameters."""
    for channel, frame in ((TRAIN_CHANNEL, data.train), (VALIDATION_CHANNEL, data.validation)):
        paths.channel(channel).mkdir(parents=True, exist_ok=True)
        frame.to_csv(paths.channel(channel) / DATA_FILE, index=False, lineterminator="\n")
    paths.channel(CARDS_CHANNEL).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BUNDLED_CARDS, paths.channel(CARDS_CHANNEL) / CATALOG_FILE)
    description = (
        f"Demo data: {data.applicants} real credit-card applicants (R AER::CreditCard, Greene), each paired with "
        f"demo cards and labelled approved/declined by the seeded process of training/demo_data.py (seed {seed})."
    )
    hyperparameters = {**DEMO_HYPERPARAMETERS, **(overrides or {}), "random_state": str(seed)}
    hyperparameters["data_description"] = description
    paths.hyperparameters.parent.mkdir(parents=True, exist_ok=True)
    paths.hyperparameters.write_text(json.dumps(hyperparameters, indent=2), encoding="utf-8")


def build(out: Path, seed: int = DEFAULT_SEED, overrides: dict[str, str] | None = None) -> int:
    """Build the demo artefact into `out` (replacing it); the trainer's exit status. `overrides` replace demo
    hyperparameters (the bench's larger models: other depths and tree counts on the same data)."""
    with tempfile.TemporaryDirectory(prefix="demo-model-") as root:
        paths = TrainingPaths(Path(root))
        write_channels(paths, build_demo_data(seed), seed, overrides)
        status = train(paths)
        if status != 0:
            print(f"demo model build failed: {paths.failure.read_text(encoding='utf-8').strip()}", file=sys.stderr)
            return status
        staging = out.with_name(out.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(paths.model_dir, staging)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.demo_model", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_MODEL_DIR, help=f"model directory (default {DEMO_MODEL_DIR})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"data and model seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    status = build(args.out, args.seed)
    if status == 0:
        metrics = json.loads((args.out / "model_metadata.json").read_text(encoding="utf-8"))["metrics"]
        print(
            f"demo model in {args.out} ({time.monotonic() - started:.1f} s): "
            f"hold-out AUC {metrics['auc']:.4f}, log-loss {metrics['log_loss']:.4f}"
        )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
