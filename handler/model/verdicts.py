"""The engine a load-time check chose, kept on the host so the launcher's check spares every MMS worker its own.

The launcher checks the artefact before MMS starts and writes the verdict to <control dir>/engine-verdict.json,
keyed by a hash of everything the verdict depends on: the artefact's files, the engine asked for, the versions of
the libraries that compute odds and the engines' own source. A worker loading the same artefact with the same code
builds that engine without checking it again; anything else (another artefact, an upgrade, no or a broken file)
is checked as before. Losing the file only costs time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from importlib import metadata as distributions
from pathlib import Path

from handler.model import pair_trees, predictor, tree_onnx

VERDICT_FILE = "engine-verdict.json"
# What computes the odds: a new version of any of these may change an engine's bits.
LIBRARIES = ("numpy", "scipy", "scikit-learn", "onnx", "onnxruntime")
ENGINE_MODULES = (pair_trees, predictor, tree_onnx)

log = logging.getLogger(__name__)


def artefact_key(files: Iterable[Path], engine: str) -> str:
    """sha256 over the artefact's files, the engine asked for, library versions and the engines' source."""
    digest = hashlib.sha256(f"engine={engine}\n".encode())
    for path in files:
        digest.update(f"{path.name}={hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    for library in LIBRARIES:
        try:
            version = distributions.version(library)
        except distributions.PackageNotFoundError:
            version = "absent"
        digest.update(f"{library}={version}\n".encode())
    for module in ENGINE_MODULES:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def read_verdict(directory: Path, key: str) -> str | None:
    """The engine checked for `key` on this host, if any."""
    try:
        recorded = json.loads((directory / VERDICT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("key") != key or not isinstance(recorded.get("engine"), str):
        return None
    return recorded["engine"]


def write_verdict(directory: Path, key: str, engine: str) -> None:
    """Record the verdict for the next process (atomically: a worker never reads half a file)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{VERDICT_FILE}.{os.getpid()}"
        partial.write_text(json.dumps({"key": key, "engine": engine}), encoding="utf-8")
        os.replace(partial, directory / VERDICT_FILE)
    except OSError as exc:  # the next process checks again: slower, never wrong
        log.warning("engine verdict not kept in %s: %s", directory, exc)
