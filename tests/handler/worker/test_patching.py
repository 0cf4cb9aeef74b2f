"""A patched third-party attribute is checked first: missing, or a function called with other parameters, it is named
in one line with its package's version and what to do."""

import types
from importlib import metadata

import pytest

from handler.worker.patching import Patch, PatchError

PYTEST = metadata.version("pytest")


def loop_module(**attributes: object) -> types.ModuleType:
    module = types.ModuleType("mms.model_service_worker")
    module.__dict__.update(attributes)
    return module


def refusal(patch: Patch, module: types.ModuleType | None = None) -> str:
    with pytest.raises(PatchError) as refused:
        patch.check(module)
    return str(refused.value)


RECEIVE = Patch("pytest", "mms.model_service_worker", "retrieve_msg", "handler/worker/busy.py", ("conn",))
SETTING = Patch("pytest", "mms.model_service_worker", "LIMIT", "handler/worker/busy.py")


def test_an_attribute_with_the_expected_parameters_passes():
    RECEIVE.check(loop_module(retrieve_msg=lambda conn: None))
    SETTING.check(loop_module(LIMIT=3))  # a value: only its presence matters


def test_a_missing_attribute_is_named_with_the_package_version_and_the_file_that_patches_it():
    assert refusal(RECEIVE, loop_module()) == (
        f"pytest {PYTEST} has no model_service_worker.retrieve_msg: this container patches it; "
        "pin the version in requirements.txt or update handler/worker/busy.py"
    )


@pytest.mark.parametrize(
    ("replaced", "found"),
    [
        (lambda conn, timeout: None, "(conn, timeout)"),
        (lambda connection: None, "(connection)"),
        (lambda: None, "()"),
        (42, " of no readable signature"),
    ],
)
def test_a_function_called_with_other_parameters_is_named(replaced, found):
    assert refusal(RECEIVE, loop_module(retrieve_msg=replaced)) == (
        f"pytest {PYTEST} has model_service_worker.retrieve_msg{found}, not (conn): this container replaces it; "
        "pin the version in requirements.txt or update handler/worker/busy.py"
    )


def test_a_missing_module_or_package_is_named():
    gone = Patch("no-such-distribution", "no_such_package.worker", "receive", "serving/patches.py")
    assert refusal(gone) == (
        "no-such-distribution (not installed) has no module no_such_package.worker: this container patches it; "
        "pin the version in requirements.txt or update serving/patches.py"
    )
