"""serving.toolkit: the toolkit's model_server module imports without setuptools' pkg_resources, reads its own files
and leaves no pkg_resources behind for other code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.server import REPO

# Every resource the toolkit asks pkg_resources for, spelled as it does (sagemaker_inference/model_server.py).
TOOLKIT_RESOURCES = {
    "DEFAULT_MMS_CONFIG_FILE": "/etc/default-mms.properties",
    "MME_MMS_CONFIG_FILE": "/etc/mme-mms.properties",
    "DEFAULT_MMS_LOG_FILE": "/etc/log4j2.xml",
}


def python(code: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter: module state (sys.modules, the toolkit's attributes) as at a server's start."""
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_the_toolkit_itself_cannot_be_imported_with_the_pinned_setuptools():
    """Why serving.toolkit exists: once this import works (a toolkit release without pkg_resources, say), drop it."""
    result = python("import sagemaker_inference.model_server")
    assert result.returncode != 0
    assert "No module named 'pkg_resources'" in result.stderr


def test_the_toolkit_gets_the_files_it_ships_and_pkg_resources_stays_absent():
    result = python(
        "import importlib.util, json, sys\n"
        "import sagemaker_inference\n"
        "from serving.toolkit import model_server\n"
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
