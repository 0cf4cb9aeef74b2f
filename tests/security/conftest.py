"""Fixtures for auditing against the loopback OSV server with no other network reachable."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.osv_server import OsvServer, load_advisories, on_free_port


@pytest.fixture
def refused_url() -> Iterator[str]:
    """An http URL on 127.0.0.1 whose port is bound but not listening: every connection is refused."""
    with socket.socket() as holder:
        on_free_port(lambda port: holder.bind(("127.0.0.1", port)))
        yield f"http://127.0.0.1:{holder.getsockname()[1]}"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refused_url: str) -> None:
    """pip-audit (and anything it starts) may reach 127.0.0.1 only: every other HTTP(S) request goes to a proxy
    that refuses connections, and the package index is that same dead address — so a test passes only if the
    audit needed nothing but the loopback OSV server. pip-audit's HTTP cache goes to tmp_path."""
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, refused_url)
        monkeypatch.setenv(name.upper(), refused_url)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("PIP_INDEX_URL", f"{refused_url}/simple")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def osv() -> Iterator[OsvServer]:
    """The loopback OSV API holding the advisories in tests/security/advisories/."""
    with OsvServer(load_advisories()) as server:
        yield server
