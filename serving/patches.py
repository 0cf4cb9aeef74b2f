"""Every change this container makes to the internals of sagemaker-inference (the toolkit), and `check()`, which the
launcher runs before MMS starts so that a toolkit or MMS release without one of them stops start-up with one line.

The toolkit offers no settings for what the container needs, so it gets them by setting module attributes that
`start_model_server` reads at call time:

| attribute | set to | why |
| --- | --- | --- |
| model_server._retry_retrieve_mms_server_process | launcher.Server._find_java | find Java among our own descendants |
| model_server._add_sigterm_handler | launcher.Server._adopt | adopt and drain the MMS tree, not just signal Java |
| model_server._add_sigchild_handler | supervisor.install_reaper | the toolkit's logs an error when no child exited |
| model_server.REQUIREMENTS_PATH | "" | never pip-install at start: the image is pinned |
| model_server.DEFAULT_MMS_LOG_FILE | serving/log4j2.xml | MMS's Java logs as our JSON lines |
| model_server._generate_mms_config_properties | + plugins_path | MMS puts plugins on its classpath only from there |
| environment.model_dir | MODEL_DIR | the toolkit's is <SAGEMAKER_BASE_DIR or /opt/ml>/model |
| pkg_resources, while model_server is imported | a stand-in | setuptools >= 82 has none (model_server()) |

The MMS worker's loop has one patch more, its `retrieve_msg` (handler/worker/busy.py); it is applied in the worker,
which must not import serving/, and checked both here and there.
"""

from __future__ import annotations

import importlib
import importlib.resources
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from handler.worker import busy
from handler.worker.patching import Patch, PatchError, unsupported

TOOLKIT = "sagemaker-inference"
MODEL_SERVER = "sagemaker_inference.model_server"
ENVIRONMENT = "sagemaker_inference.environment"
HOME = "serving/patches.py"

PATCHES = (
    Patch(TOOLKIT, MODEL_SERVER, "_retry_retrieve_mms_server_process", HOME, ("startup_timeout",)),
    Patch(TOOLKIT, MODEL_SERVER, "_add_sigterm_handler", HOME, ("mms_process",)),
    Patch(TOOLKIT, MODEL_SERVER, "_add_sigchild_handler", HOME, ()),
    Patch(TOOLKIT, MODEL_SERVER, "REQUIREMENTS_PATH", HOME),
    Patch(TOOLKIT, MODEL_SERVER, "DEFAULT_MMS_LOG_FILE", HOME),
    Patch(TOOLKIT, MODEL_SERVER, "_generate_mms_config_properties", HOME, ("env", "handler_service")),
    Patch(TOOLKIT, ENVIRONMENT, "model_dir", HOME),
    busy.RECEIVE,
)


def check() -> None:
    """Raise PatchError (one line) if an installed toolkit or MMS lacks, or calls differently, anything patched."""
    model_server()  # imported with the pkg_resources stand-in, so that the checks below find it in sys.modules
    for patch in PATCHES:
        patch.check()


def take_over_processes(
    find_java: Callable[[int], Any], adopt: Callable[[Any], None], install_reaper: Callable[[], None]
) -> None:
    """start_model_server finds, watches and reaps MMS through these, and installs nothing with pip."""
    toolkit = model_server()
    toolkit._retry_retrieve_mms_server_process = find_java
    toolkit._add_sigterm_handler = adopt
    toolkit._add_sigchild_handler = install_reaper
    toolkit.REQUIREMENTS_PATH = ""


def point_at(model_dir: Path, log_config: Path, plugins_path: Path | None) -> None:
    """start_model_server serves `model_dir`, configures Java's logs from `log_config` and loads `plugins_path`."""
    toolkit = model_server()
    environment().model_dir = str(model_dir)
    toolkit.DEFAULT_MMS_LOG_FILE = str(log_config)
    if plugins_path is not None:
        generate = toolkit._generate_mms_config_properties

        def with_plugins(env: object, handler_service: str | None = None) -> str:
            return generate(env, handler_service) + f"plugins_path={plugins_path}\n"

        toolkit._generate_mms_config_properties = with_plugins


# The toolkit ships no type information: its modules are Any here, and only here.
def environment() -> Any:
    return importlib.import_module(ENVIRONMENT)


def model_server() -> Any:
    """The toolkit's model_server module, imported without setuptools' pkg_resources (once, then from sys.modules).

    sagemaker-inference 1.10.1 (its latest release) imports `pkg_resources` only to call `resource_filename()` on
    three files it ships (etc/default-mms.properties, etc/mme-mms.properties, etc/log4j2.xml). `pkg_resources` is
    gone from setuptools >= 82, and setuptools < 83 is affected by PYSEC-2026-3447. So while the toolkit module is
    imported it is given a stand-in holding just that one function; the stand-in is then taken out of `sys.modules`,
    so no other code ever sees it.
    """
    if MODEL_SERVER in sys.modules:
        return sys.modules[MODEL_SERVER]
    stand_in = ModuleType("pkg_resources", "What sagemaker_inference.model_server uses of pkg_resources, nothing more.")
    stand_in.resource_filename = resource_filename  # type: ignore[attr-defined]
    previous = sys.modules.get("pkg_resources")
    sys.modules["pkg_resources"] = stand_in
    try:
        return importlib.import_module(MODEL_SERVER)
    except (AttributeError, ImportError) as error:  # `pkg_resources.x` and `from pkg_resources import x`
        if getattr(error, "obj", None) is not stand_in and getattr(error, "name", None) != "pkg_resources":
            raise
        problem = f"uses more of pkg_resources than resource_filename, all its stand-in here has ({error})"
        raise PatchError(unsupported(TOOLKIT, problem, HOME)) from None
    finally:
        if previous is None:
            del sys.modules["pkg_resources"]
        else:
            sys.modules["pkg_resources"] = previous


def resource_filename(package: str, resource: str) -> str:
    """`pkg_resources.resource_filename` for a package installed as plain files: the package's directory joined with
    the "/"-separated resource path (pkg_resources too ignores a leading "/", which the toolkit passes)."""
    root = importlib.resources.files(package)
    if not isinstance(root, Path):  # a zipped install has no file name to give MMS
        raise ImportError(f"{package} is not installed as plain files, so {resource} has no file name")
    return str(root.joinpath(*filter(None, resource.split("/"))))
