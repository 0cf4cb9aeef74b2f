"""The toolkit's `sagemaker_inference.model_server`, imported without setuptools' `pkg_resources`.

sagemaker-inference 1.10.1 (its latest release) imports `pkg_resources` only to call `resource_filename()` on three
files it ships (etc/default-mms.properties, etc/mme-mms.properties, etc/log4j2.xml). `pkg_resources` is gone from
setuptools >= 82, and setuptools < 83 is affected by PYSEC-2026-3447. So while the toolkit module is imported it is
given a stand-in holding just that one function; the stand-in is then taken out of `sys.modules`, so no other code
ever sees it.
"""

from __future__ import annotations

import importlib
import importlib.resources
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE = "sagemaker_inference.model_server"


def resource_filename(package: str, resource: str) -> str:
    """`pkg_resources.resource_filename` for a package installed as plain files: the package's directory joined with
    the "/"-separated resource path (pkg_resources too ignores a leading "/", which the toolkit passes)."""
    root = importlib.resources.files(package)
    if not isinstance(root, Path):  # a zipped install has no file name to give MMS
        raise ImportError(f"{package} is not installed as plain files, so {resource} has no file name")
    return str(root.joinpath(*filter(None, resource.split("/"))))


def model_server() -> Any:  # the toolkit ships no type information; callers set its private hooks
    """The toolkit's model_server module (imported once, then cached in sys.modules like any module)."""
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    stand_in = ModuleType("pkg_resources", "What sagemaker_inference.model_server uses of pkg_resources, nothing more.")
    stand_in.resource_filename = resource_filename  # type: ignore[attr-defined]
    previous = sys.modules.get("pkg_resources")
    sys.modules["pkg_resources"] = stand_in
    try:
        return importlib.import_module(MODULE)
    finally:
        if previous is None:
            del sys.modules["pkg_resources"]
        else:
            sys.modules["pkg_resources"] = previous
