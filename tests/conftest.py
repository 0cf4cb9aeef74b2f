"""Fixtures shared by the whole suite: the demo model and the one real MMS server allowed per host."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from handler.model.artifact import Artifact, load_artifact
from tests.support import figures
from tests.support.server import REPO, Server, Servers

pytest_plugins = ["tests.s3_fixtures"]

# Hypothesis's default 200 ms deadline per example and its too_slow check are wall-clock verdicts: on a CI machine
# whose cores are busy with another job they fail tests that are correct. Every property test runs without them.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")

DEMO_MODEL = REPO / "build" / "demo-model"


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The demo artefact `make demo-model` builds; built here too, so a bare `pytest` works."""
    if not (DEMO_MODEL / "model_metadata.json").exists():
        subprocess.run([sys.executable, "-m", "training.demo_model", "--out", str(DEMO_MODEL)], cwd=REPO, check=True)
    return DEMO_MODEL


@pytest.fixture(scope="session")
def artifact(demo_model: Path) -> Artifact:
    """The demo artefact loaded in-process, to compute what the server should answer."""
    return load_artifact(demo_model)


@pytest.fixture(scope="session")
def names(artifact: Artifact) -> tuple[str, ...]:
    """The demo model's applicant features, in metadata order."""
    return artifact.metadata.applicant_feature_names


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    manager = Servers(tmp_path_factory.mktemp("servers"))
    yield manager
    manager.stop()


@pytest.fixture
def mms(servers: Servers, demo_model: Path) -> Server:
    """The real server on the demo model with default settings (2 workers, loopback)."""
    return servers.get({"MODEL_DIR": str(demo_model)})


def pytest_sessionstart(session: pytest.Session) -> None:
    """SIGTERM (a CI or `timeout` stopping the run) ends the run like Ctrl-C: fixtures tear down, no MMS or S3 server
    is left holding the host."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Figures the tests measured without asserting them (times on a shared machine are no verdict)."""
    report = figures.write_report()
    if report is None:
        return
    terminalreporter.section("figures measured, not asserted")
    for line in figures.summary_lines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"written to {report.relative_to(REPO)}")
