"""serving.patches: every toolkit and MMS internal the container patches exists in the pinned versions, a release
without one stops start-up with one line and exit status 1 before MMS starts, and the toolkit imports without
setuptools' pkg_resources, leaving none behind for other code."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from config.settings import REPO_ROOT
from handler.worker import busy
from handler.worker.patching import PatchError
from serving import patches
from serving.patches import PATCHES

# Every resource the toolkit asks pkg_resources for, spelled as it does (sagemaker_inference/model_server.py).
TOOLKIT_RESOURCES = {
    "DEFAULT_MMS_CONFIG_FILE": "/etc/default-mms.properties",
    "MME_MMS_CONFIG_FILE": "/etc/mme-mms.properties",
    "DEFAULT_MMS_LOG_FILE": "/etc/log4j2.xml",
}
ADVICE = "pin the version in requirements.txt or update"


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter: module state (sys.modules, the toolkit's attributes) as at a server's start."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def pins() -> dict[str, str]:
    lines = (REPO_ROOT / "requirements.txt").read_text().splitlines()
    found = (re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip()) for line in lines)
    return {re.sub(r"[-_.]+", "-", match[1]).lower(): match[2] for match in found if match}


def test_the_patched_packages_are_the_pinned_versions():
    distributions = {patch.distribution for patch in PATCHES}
    assert distributions == {"sagemaker-inference", "multi-model-server"}
    for distribution in distributions:
        assert metadata.version(distribution) == pins()[distribution]


def test_every_patched_attribute_exists_in_the_pinned_versions():
    patches.check()
    assert [patch.where for patch in PATCHES] == [
        "model_server._retry_retrieve_mms_server_process",
        "model_server._add_sigterm_handler",
        "model_server._add_sigchild_handler",
        "model_server.REQUIREMENTS_PATH",
        "model_server.DEFAULT_MMS_LOG_FILE",
        "model_server._generate_mms_config_properties",
        "environment.model_dir",
        "model_service_worker.retrieve_msg",
    ]


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.where)
def test_a_release_without_a_patched_attribute_is_named(patch, monkeypatch):
    patches.model_server()
    monkeypatch.delattr(importlib.import_module(patch.module), patch.name)
    with pytest.raises(PatchError) as refused:
        patches.check()
    version = metadata.version(patch.distribution)
    assert str(refused.value) == (
        f"{patch.distribution} {version} has no {patch.where}: this container patches it; {ADVICE} {patch.home}"
    )


def test_a_replaced_function_that_takes_other_parameters_is_named(monkeypatch):
    monkeypatch.setattr(patches.model_server(), "_add_sigterm_handler", lambda mms_process, timeout: None)
    with pytest.raises(PatchError) as refused:
        patches.check()
    assert str(refused.value) == (
        f"sagemaker-inference {metadata.version('sagemaker-inference')} has "
        "model_server._add_sigterm_handler(mms_process, timeout), not (mms_process): this container replaces it; "
        f"{ADVICE} serving/patches.py"
    )


@pytest.mark.parametrize("patch", [PATCHES[1], busy.RECEIVE], ids=lambda patch: patch.where)
def test_start_up_stops_with_one_line_and_exit_status_1(tmp_path, patch):
    """As after a version bump: `entrypoint.py serve` in a fresh interpreter whose toolkit or MMS lacks the attribute.
    MODEL_DIR does not exist, so a launcher that went on past the check would fail with another line."""
    result = python(
        "import importlib, sys\n"
        "from serving import patches\n"
        "patches.model_server()\n"
        f"delattr(importlib.import_module({patch.module!r}), {patch.name!r})\n"
        "import entrypoint\n"
        "sys.exit(entrypoint.main(['serve']))\n",
        env={"PATH": "/usr/bin:/bin", "MODEL_DIR": str(tmp_path / "nowhere")},
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"approval-odds: {patch.distribution} {metadata.version(patch.distribution)} has no {patch.where}: "
        f"this container patches it; {ADVICE} {patch.home}\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize("use", ["pkg_resources.get_distribution('x')", "from pkg_resources import get_distribution"])
def test_a_toolkit_that_needs_more_of_pkg_resources_is_named(tmp_path, monkeypatch, use):
    """The stand-in holds resource_filename only: a toolkit release that uses more is refused by name."""
    (tmp_path / "later_toolkit.py").write_text(f"import pkg_resources\n{use}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(patches, "MODEL_SERVER", "later_toolkit")
    before = sys.modules.get("pkg_resources")
    with pytest.raises(PatchError) as refused:
        patches.model_server()
    message = str(refused.value)
    assert message.startswith("sagemaker-inference ") and message.endswith(f"; {ADVICE} serving/patches.py")
    assert "uses more of pkg_resources than resource_filename" in message and "get_distribution" in message
    assert sys.modules.get("pkg_resources") is before


def test_the_toolkit_itself_cannot_be_imported_with_the_pinned_setuptools():
    """Why the stand-in exists: once this import works (a toolkit release without pkg_resources, say), drop it."""
    result = python("import sagemaker_inference.model_server")
    assert result.returncode != 0
    assert "No module named 'pkg_resources'" in result.stderr


def test_the_toolkit_gets_the_files_it_ships_and_pkg_resources_stays_absent():
    result = python(
        "import importlib.util, json, sys\n"
        "import sagemaker_inference\n"
        "from serving.patches import model_server\n"
        "module = model_server()\n"
        f"names = {list(TOOLKIT_RESOURCES)!r}\n"
        "print(json.dumps({\n"
        "    'package': sagemaker_inference.__path__[0],\n"
        "    'files': {name: getattr(module, name) for name in names},\n"
        "    'left_in_sys_modules': 'pkg_resources' in sys.modules,\n"
        "    'same_module_again': model_server() is module,\n"
        "}))\n"
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    package = Path(seen["package"])
    for name, resource in TOOLKIT_RESOURCES.items():
        path = Path(seen["files"][name])
        assert path == package / resource.lstrip("/"), name
        assert path.is_file(), f"{name}: {path} does not exist"
    assert seen["left_in_sys_modules"] is False
    assert seen["same_module_again"] is True
