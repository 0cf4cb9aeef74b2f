"""A loopback stand-in for OSV's query API (POST /v1/query), so the dependency audit can be run end to end here.

It answers pip-audit's OSV service (pip-audit --vulnerability-service osv --osv-url URL) the way api.osv.dev does:
request {"package": {"name": ..., "ecosystem": "PyPI"}, "version": ...}; response {"vulns": [record, ...]}, or {}
when no record affects that version. Records are OSV JSON files (tests/security/advisories/: real PyPA advisories,
pypa/advisory-database vulns/<package>/<id>.yaml, converted to JSON unchanged) and are returned as stored —
pip-audit itself reads their "affected" ranges for fix versions and drops "withdrawn" ones.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tests.support.server import free_port

ADVISORIES = Path(__file__).resolve().parent / "advisories"
QUERY_PATH = "/v1/query"
Advisory = Mapping[str, Any]
T = TypeVar("T")


def on_free_port(bind: Callable[[int], T]) -> T:
    """bind(port) on a free loopback port in the tests' range; retried, as another process can take the port
    between free_port() and bind()."""
    for _ in range(20):
        try:
            return bind(free_port())
        except OSError:
            continue
    raise RuntimeError("no free port could be bound")


def load_advisories(directory: Path = ADVISORIES) -> tuple[Advisory, ...]:
    return tuple(json.loads(path.read_text()) for path in sorted(directory.glob("*.json")))


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:  # some old releases in "versions" lists are not PEP 440
        return None


def in_range(events: Iterable[Mapping[str, str]], version: Version) -> bool:
    """OSV's ECOSYSTEM range evaluation: walk the events in version order; introduced opens, fixed (at or after)
    and last_affected (after) close. "0" introduces before every release."""
    ordered: list[tuple[bool, Version, str]] = []
    for event in events:
        ((kind, at),) = event.items()
        bound = _version(at)
        if bound is not None:
            ordered.append((at != "0", bound, kind))
    affected = False
    for after_zero, bound, kind in sorted(ordered):
        if kind == "introduced":
            affected = affected or not after_zero or version >= bound
        elif (kind == "fixed" and version >= bound) or (kind == "last_affected" and version > bound):
            affected = False
    return affected


def affects(advisory: Advisory, package: str, version: Version) -> bool:
    """True when an "affected" entry for this PyPI package lists the version or has an ECOSYSTEM range holding it."""
    for affected in advisory.get("affected", ()):
        named = affected["package"]
        if named["ecosystem"] != "PyPI" or canonicalize_name(named["name"]) != package:
            continue
        if any(_version(listed) == version for listed in affected.get("versions", ())):
            return True
        if any(in_range(r["events"], version) for r in affected.get("ranges", ()) if r["type"] == "ECOSYSTEM"):
            return True
    return False


class OsvServer:
    """ThreadingHTTPServer on 127.0.0.1. `queries` records every (package, version) asked about, in order;
    queries for packages in `failing` are answered 500 (a database that is up but broken)."""

    def __init__(self, advisories: Iterable[Advisory], failing: Iterable[str] = ()) -> None:
        self.advisories = tuple(advisories)
        self.failing = frozenset(canonicalize_name(name) for name in failing)
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        handler = _handler_for(self)
        self._httpd = on_free_port(lambda port: ThreadingHTTPServer(("127.0.0.1", port), handler))
        self.url = f"http://127.0.0.1:{self._httpd.server_port}{QUERY_PATH}"
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="osv-server", daemon=True)

    def answer(self, query: Mapping[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        try:
            package, ecosystem = canonicalize_name(query["package"]["name"]), query["package"]["ecosystem"]
            version = Version(query["version"])
        except (KeyError, TypeError, InvalidVersion):
            return HTTPStatus.BAD_REQUEST, {"message": "expected a package name, ecosystem and version"}
        with self._lock:
            self.queries.append((package, str(version)))
        if package in self.failing:
            return HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "injected failure"}
        if ecosystem != "PyPI":
            return HTTPStatus.OK, {}
        vulns = [advisory for advisory in self.advisories if affects(advisory, package, version)]
        return HTTPStatus.OK, {"vulns": vulns} if vulns else {}

    def __enter__(self) -> OsvServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def _handler_for(server: OsvServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != QUERY_PATH:
                self._send(HTTPStatus.NOT_FOUND, {"message": "not found"})
                return
            try:
                query = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            except ValueError:
                self._send(HTTPStatus.BAD_REQUEST, {"message": "body is not JSON"})
                return
            self._send(*server.answer(query))

        def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler
