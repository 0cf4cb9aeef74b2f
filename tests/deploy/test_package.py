"""`package`: a model directory becomes model.tar.gz with the files at its top level (SageMaker unpacks it into
/opt/ml/model), readable by the container's non-root user, reproducible, validated, and uploaded to S3."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.package import build_archive
from handler.model.artifact import load_artifact
from tests.deploy.conftest import Aws
from tests.support.artifacts import write_artifact


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return write_artifact(tmp_path / "model")


def test_archive_unpacks_into_a_loadable_model_directory(model_dir: Path, tmp_path: Path) -> None:
    archive = build_archive(model_dir, tmp_path / "out" / "model.tar.gz")
    with tarfile.open(archive) as tar:
        members = {member.name: member for member in tar.getmembers()}
        tar.extractall(tmp_path / "opt-ml-model", filter="data")
    assert set(members) == {"model.joblib", "model_metadata.json", "card_variables.csv"}
    assert {member.mode for member in members.values()} == {0o644}
    assert load_artifact(tmp_path / "opt-ml-model").metadata.model_version == "test-1"


def test_the_same_model_gives_the_same_bytes(model_dir: Path, tmp_path: Path) -> None:
    first = build_archive(model_dir, tmp_path / "a.tar.gz").read_bytes()
    copy = tmp_path / "elsewhere" / "model"
    copy.mkdir(parents=True)
    for path in model_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
        os.utime(copy / path.name, (1, 1))
    assert build_archive(copy, tmp_path / "b.tar.gz").read_bytes() == first


def test_a_broken_model_is_not_packaged(model_dir: Path, tmp_path: Path) -> None:
    (model_dir / "card_variables.csv").unlink()
    with pytest.raises(DeployError, match=r"cannot be served: card_variables.csv is missing"):
        build_archive(model_dir, tmp_path / "model.tar.gz")
    assert not (tmp_path / "model.tar.gz").exists()


def test_symlinks_are_refused(model_dir: Path, tmp_path: Path) -> None:
    (model_dir / "extra.txt").symlink_to("/etc/hostname")
    with pytest.raises(DeployError, match="extra.txt is not a regular file"):
        build_archive(model_dir, tmp_path / "model.tar.gz")


@pytest.mark.parametrize(
    ("destination", "key"),
    [("s3://models/approval-odds/v3/", "approval-odds/v3/model.tar.gz"), ("s3://models/exact.tar.gz", "exact.tar.gz")],
)
def test_package_uploads_to_a_prefix_or_an_exact_key(
    aws: Aws, capsys: pytest.CaptureFixture[str], model_dir: Path, destination: str, key: str
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="models")
    status, out, err = aws.run(capsys, "package", "--model-dir", str(model_dir), "--s3-uri", destination)
    assert status == 0, err
    assert json.loads(out) == {"model_data_url": f"s3://models/{key}"}
    body = s3.get_object(Bucket="models", Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert "model_metadata.json" in tar.getnames()


def test_package_of_a_broken_model_uploads_nothing(
    aws: Aws, capsys: pytest.CaptureFixture[str], model_dir: Path
) -> None:
    (model_dir / "model_metadata.json").write_text("{}")
    status, out, err = aws.run(capsys, "package", "--model-dir", str(model_dir), "--s3-uri", "s3://models/v1/")
    assert status == 1
    assert out == ""
    assert err.startswith(f"python -m deploy: error: model directory {model_dir} cannot be served: ")
    assert aws.calls == []
