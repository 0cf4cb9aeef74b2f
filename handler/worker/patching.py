"""Attributes of third-party modules this container replaces, each checked before it is relied on.

Patching a library's internals is a bet on one version of it: a release that renames the attribute turns the patch
into a silent no-op (a new attribute nobody reads), and one that changes a function's parameters breaks the
replacement mid-start or mid-request. Each patch is declared as a `Patch`; `Patch.check` turns such a release into one
line naming the package, its version and the attribute. serving/patches.py declares the toolkit's and runs every
check before MMS starts; the MMS worker's own patch (handler/worker/busy.py) is checked there too and again in the
worker, which must not import serving/.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType


class PatchError(Exception):
    """An installed package lacks, or calls differently, an attribute this container patches (one line)."""


@dataclass(frozen=True)
class Patch:
    distribution: str  # as pip names it, for the message: "sagemaker-inference"
    module: str  # "sagemaker_inference.model_server"
    name: str  # the attribute this container sets
    home: str  # the file that patches it, for the message
    parameters: tuple[str, ...] | None = None  # a replaced function's parameters, as callers pass them; None: a value

    @property
    def where(self) -> str:
        """The attribute as the message names it: model_server._add_sigterm_handler."""
        return f"{self.module.rpartition('.')[2]}.{self.name}"

    def check(self, module: ModuleType | None = None) -> None:
        """Raise PatchError unless `module` (by default, self.module imported) has the attribute and, for a replaced
        function, exactly the parameters the replacement takes."""
        if module is None:
            try:
                module = importlib.import_module(self.module)
            except ModuleNotFoundError:
                raise PatchError(self.message(f"has no module {self.module}: this container patches it")) from None
        if not hasattr(module, self.name):
            raise PatchError(self.message(f"has no {self.where}: this container patches it"))
        if self.parameters is None:
            return
        try:
            found = "(" + ", ".join(inspect.signature(getattr(module, self.name)).parameters) + ")"
        except (TypeError, ValueError):  # not a function, or one without a signature to read
            found = " of no readable signature"
        expected = "(" + ", ".join(self.parameters) + ")"
        if found != expected:
            raise PatchError(self.message(f"has {self.where}{found}, not {expected}: this container replaces it"))

    def message(self, problem: str) -> str:
        return unsupported(self.distribution, problem, self.home)


def unsupported(distribution: str, problem: str, home: str) -> str:
    """The one line for an installed package this container cannot patch, naming what to do about it."""
    try:
        version = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return f"{distribution} {version} {problem}; pin the version in requirements.txt or update {home}"
