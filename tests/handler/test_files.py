"""write_atomically: readers see the old file or the new one, never a partial one, and no debris is left."""

import pytest

from handler.files import write_atomically


def test_creates_missing_directories_and_replaces_the_file(tmp_path):
    target = tmp_path / "a" / "b" / "file.csv"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert [path.name for path in target.parent.iterdir()] == ["file.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "file.csv"
    write_atomically(target, b"good")
    with pytest.raises(TypeError):
        write_atomically(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"good"
    assert [path.name for path in tmp_path.iterdir()] == ["file.csv"]
