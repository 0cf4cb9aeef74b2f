"""serving.plugins: `entrypoint.py serve` without `make plugins` names the routes MMS will not serve and the fix.

The check is over the plugins the repository defines (plugins/<name>/), whatever they are."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serving import plugins
from tests.support.server import REPO

# What `entrypoint.py serve` needs of the repository (no build/: plugins never built there).
SERVE_TREE = ("entrypoint.py", "config", "handler", "serving", "plugins")


def write_plugin(sources: Path, name: str, *routes: str) -> None:
    java = sources / name / "src" / "example" / f"{name.title()}.java"
    java.parent.mkdir(parents=True)
    endpoints = "".join(f'@Endpoint(\n    urlPattern = "{route}",\n    description = "x")\n' for route in routes)
    java.write_text(f"package example;\n\n{endpoints}public class X extends ModelServerEndpoint {{}}\n")


def test_every_plugin_of_the_repository_declares_its_routes():
    defined = {plugin.name: plugin.routes for plugin in plugins.defined()}
    assert {p.name for p in plugins.SOURCES_DIR.iterdir() if p.is_dir()} == set(defined)
    assert defined["updateccdata"] == ("/updateccdata",)
    assert defined["execution-parameters"] == ("/execution-parameters",)
    assert all(defined.values()), defined


def test_only_plugins_without_a_jar_are_unbuilt(tmp_path):
    sources, built = tmp_path / "plugins", tmp_path / "build"
    write_plugin(sources, "alpha", "alpha")
    write_plugin(sources, "beta", "beta", "beta-status")
    built.mkdir()
    (built / "alpha.jar").write_bytes(b"PK")
    assert plugins.unbuilt(sources, built) == [plugins.Plugin("beta", ("/beta", "/beta-status"))]
    (built / "beta.jar").write_bytes(b"PK")
    assert plugins.unbuilt(sources, built) == []


def test_one_warning_names_the_missing_routes_and_the_build_command(tmp_path, caplog):
    sources = tmp_path / "plugins"
    write_plugin(sources, "alpha", "alpha")
    write_plugin(sources, "beta", "beta")
    with caplog.at_level(logging.WARNING, logger="serving.plugins"):
        missing = plugins.warn_if_unbuilt(sources, tmp_path / "never-built")
    assert [plugin.name for plugin in missing] == ["alpha", "beta"]
    (record,) = caplog.records
    assert "/alpha, /beta" in record.getMessage() and "`make plugins`" in record.getMessage()
    assert record.missing_routes == ["/alpha", "/beta"]


def test_all_plugins_built_is_silent(tmp_path, caplog):
    sources, built = tmp_path / "plugins", tmp_path / "build"
    write_plugin(sources, "alpha", "alpha")
    built.mkdir()
    (built / "alpha.jar").write_bytes(b"PK")
    with caplog.at_level(logging.WARNING, logger="serving.plugins"):
        assert plugins.warn_if_unbuilt(sources, built) == []
    assert caplog.records == []


@pytest.fixture
def unbuilt_checkout(tmp_path) -> Path:
    """The serving code and plugin sources of this repository, as in a fresh clone before `make plugins`."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in SERVE_TREE:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__", "*.jar", "*.class"))
        else:
            shutil.copy2(source, checkout / name)
    return checkout


def serve_log(checkout: Path, model_dir: Path) -> list[dict]:
    """JSON log lines of `entrypoint.py serve` in `checkout`; an empty model dir stops it before MMS starts."""
    model_dir.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, str(checkout / "entrypoint.py"), "serve"],
        env={"MODEL_DIR": str(model_dir), "PATH": "/usr/bin:/bin"},
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "cannot serve" in result.stderr, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_serve_in_a_checkout_without_make_plugins_warns_once(unbuilt_checkout, tmp_path):
    expected = [route for plugin in plugins.defined() for route in plugin.routes]
    warnings = [line for line in serve_log(unbuilt_checkout, tmp_path / "model") if line["level"] == "WARNING"]
    assert len(warnings) == 1, warnings
    assert warnings[0]["missing_routes"] == expected
    assert "/updateccdata" in warnings[0]["message"] and "/execution-parameters" in warnings[0]["message"]
    assert "make plugins" in warnings[0]["message"]


def test_serve_with_every_plugin_built_does_not_warn(unbuilt_checkout, tmp_path):
    built = unbuilt_checkout / "build" / "plugins"
    built.mkdir(parents=True)
    for plugin in plugins.defined():
        (built / f"{plugin.name}.jar").write_bytes(b"PK")
    assert [line for line in serve_log(unbuilt_checkout, tmp_path / "model") if line["level"] == "WARNING"] == []
