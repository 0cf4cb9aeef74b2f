"""A model directory → model.tar.gz as SageMaker unpacks it into /opt/ml/model, uploaded to S3.

The archive is validated first (the same loader the container runs before it serves) and is byte-for-byte
reproducible, so the same model always gets the same archive and SageMaker model names derived from it.
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path
from typing import Any

from config.s3 import S3Location
from deploy.errors import DeployError
from handler.model.artifact import load_artifact
from handler.model.errors import ArtifactError

ARCHIVE_NAME = "model.tar.gz"


def build_archive(model_dir: Path, archive: Path) -> Path:
    """Validate `model_dir` and write its files, at the top level of the archive, to `archive`."""
    try:
        load_artifact(model_dir)
    except ArtifactError as error:
        raise DeployError(f"model directory {model_dir} cannot be served: {error}") from None
    entries = sorted(model_dir.rglob("*"))
    for path in entries:
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise DeployError(f"{path} is not a regular file or directory: copy what it points to instead")
    archive.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0 and no file name in the gzip header: the same model must give the same bytes.
    with (
        archive.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in entries:
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False, filter=_normalised)
    return archive


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # World-readable: the container serves as a non-root user, whoever owned the files here.
    info.mode = 0o755 if info.isdir() else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def upload_archive(s3: Any, archive: Path, destination: S3Location) -> S3Location:
    """Upload `archive` to `destination` (an object key, or a prefix to put model.tar.gz under)."""
    target = destination.child(ARCHIVE_NAME)
    s3.upload_file(str(archive), target.bucket, target.key)
    return target
