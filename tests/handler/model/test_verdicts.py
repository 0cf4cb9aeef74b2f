"""The engine check's verdict is kept per host and trusted only for exactly the same artefact, engine and code."""

import pytest

from handler.model import verdicts
from handler.model.verdicts import VERDICT_FILE, artefact_key, read_verdict, write_verdict
from tests.support.artifacts import write_artifact


@pytest.fixture
def files(tmp_path):
    model_dir = write_artifact(tmp_path / "model")
    return [model_dir / name for name in ("model.joblib", "model_metadata.json", "card_variables.csv")]


def test_the_key_changes_with_every_file_the_engine_and_the_libraries(files, monkeypatch):
    key = artefact_key(files, "pair-trees")
    assert artefact_key(files, "pair-trees") == key
    assert artefact_key(files, "onnxruntime") != key
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert artefact_key(files, "pair-trees") != key, path.name
        path.write_bytes(original)
    monkeypatch.setattr(verdicts.distributions, "version", lambda name: "0.0-other")
    assert artefact_key(files, "pair-trees") != key


def test_a_verdict_is_read_back_only_for_its_key(tmp_path):
    write_verdict(tmp_path / "control", "k1", "pair-trees")
    assert read_verdict(tmp_path / "control", "k1") == "pair-trees"
    assert read_verdict(tmp_path / "control", "k2") is None
    assert read_verdict(tmp_path / "nowhere", "k1") is None
    write_verdict(tmp_path / "control", "k2", "sklearn")  # the next artefact replaces it
    assert read_verdict(tmp_path / "control", "k1") is None
    assert [path.name for path in (tmp_path / "control").iterdir()] == [VERDICT_FILE]  # no partial file left


@pytest.mark.mms
def test_mms_workers_reuse_the_launchers_check(mms):
    log = mms.log_text()
    assert log.count("bit-identical to sklearn on") == 1  # the launcher's check, before MMS started
    assert log.count("as checked earlier on this host") == int(mms.env["SAGEMAKER_MODEL_SERVER_WORKERS"])
