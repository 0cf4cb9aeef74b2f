"""Dependency audit: pip-audit over every pinned requirements file, with an allowlist.

    .venv/bin/python -m tests.security.audit [--snapshot DIR] [--requirement FILE ...]   # offline (make audit)
    .venv/bin/python -m tests.security.audit --online [--osv-url URL]                    # live database

Offline (the default, run by `make test`): the OSV records of ../shared/advisories (a PyPA advisory database
snapshot, see its manifest.json), plus tests/security/advisory-supplement/ for pins added since (cut from the same
commit by scripts/advisory_supplement.py), are served by a loopback OSV query API (tests/security/osv_server.py) and
the real pip-audit queries it. The report names the snapshot's date and source, whose provenance is not independently
verified; advisories published after that date are missing. A pin the snapshot does not cover is NOT AUDITED, never
clean.

Online: pip-audit asks PyPI's JSON API, or with --osv-url an OSV query API (api.osv.dev/v1/query, a mirror). Where
it cannot reach it, pip-audit skips the package, prints "No known vulnerabilities found" and exits 0 — a pass that
checked nothing. This wrapper counts skipped packages and says so instead.

Exit status: 0 every pin audited and nothing found beyond the allowlist; 1 vulnerabilities found; 2 not audited.
The allowlist (.ci/pip-audit-allowlist.txt) holds one vulnerability id per line followed by the reason it is
accepted; an entry without a reason is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tests.security.osv_server import OsvServer

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "requirements.txt"
REQUIREMENT_FILES = (REQUIREMENTS, REPO / "requirements-dev.txt")
ALLOWLIST = REPO / ".ci" / "pip-audit-allowlist.txt"
SHARED_SNAPSHOT = REPO.parent / "shared" / "advisories"  # CI: a read-only copy of shared/ beside the clone
SUPPLEMENT = Path(__file__).resolve().parent / "advisory-supplement"
SUPPLEMENT_COMMAND = "python scripts/advisory_supplement.py --database GIT_DIR"
TIMEOUT_SECONDS = 300
VULNERABILITY_ID = re.compile(r"[A-Z][A-Z0-9]*-[A-Za-z0-9-]+")  # PYSEC-2023-1, GHSA-xxxx-xxxx-xxxx, CVE-2024-1
CLEAN, VULNERABLE, NOT_AUDITED = 0, 1, 2
SUMMARY_NAMES = 8  # unchecked packages named in a summary


class AuditError(Exception):
    """pip-audit did not produce a report (it could not run, or crashed reaching its service), or there is no
    vulnerability data to give it."""


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vulnerability: str
    fix_versions: tuple[str, ...]


@dataclass(frozen=True)
class AuditResult:
    audited: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)  # package → why it was not checked
    findings: tuple[Finding, ...] = ()

    @property
    def status(self) -> int:
        if self.findings:
            return VULNERABLE
        return NOT_AUDITED if self.skipped or not self.audited else CLEAN

    def summary(self) -> str:
        if self.findings:
            listed = "; ".join(
                f"{f.package} {f.version}: {f.vulnerability} (fixed in {', '.join(f.fix_versions) or 'no release'})"
                for f in self.findings
            )
            return f"{len(self.findings)} known vulnerabilities not in the allowlist: {listed}"
        if self.status == NOT_AUDITED:
            reason = next(iter(self.skipped.values()), "no package was audited")
            names = sorted(self.skipped)
            listed = ", ".join(names[:SUMMARY_NAMES]) + (
                f" and {len(names) - SUMMARY_NAMES} more" if names[SUMMARY_NAMES:] else ""
            )
            return (
                f"NOT AUDITED: pip-audit could not check {len(self.skipped)} of "
                f"{len(self.skipped) + len(self.audited)} pins ({listed}), e.g. {reason}"
            )
        return f"{len(self.audited)} pins audited: no known vulnerabilities beyond the allowlist"


@dataclass(frozen=True)
class Snapshot:
    """Offline OSV records: which database, at which commit, and the packages it was cut for (a covered package
    without a record had no advisory at that date)."""

    source: str
    commit: str
    date: str  # YYYY-MM-DD of the commit
    packages: frozenset[str]
    advisories: tuple[Mapping[str, Any], ...]

    def describe(self) -> str:
        return (
            f"offline vulnerability data: PyPA advisory database snapshot of {self.date} ({self.source}, commit "
            f"{self.commit[:12]}; its provenance is not independently verified; advisories published later are "
            f"missing)"
        )


def load_snapshot(shared: Path = SHARED_SNAPSHOT, supplement: Path | None = SUPPLEMENT) -> Snapshot:
    """The shared snapshot, plus the supplement when there is one; both must come from the same commit."""
    directories = [shared, *([supplement] if supplement is not None and supplement.is_dir() else [])]
    manifests = []
    for directory in directories:
        try:
            manifests.append(json.loads((directory / "manifest.json").read_text()))
        except (OSError, ValueError) as error:
            raise AuditError(f"no advisory snapshot at {directory}: {error}") from None
    commits = {manifest["commit"] for manifest in manifests}
    if len(commits) != 1:
        raise AuditError(
            f"{supplement} was cut from another commit than {shared}: regenerate it ({SUPPLEMENT_COMMAND})"
        )
    records = {}
    for directory in directories:
        for path in sorted((directory / "osv").glob("*.json")):
            record = json.loads(path.read_text())
            records[record["id"]] = record
    return Snapshot(
        source=manifests[0]["source"],
        commit=manifests[0]["commit"],
        date=manifests[0]["commit_date"][:10],
        packages=frozenset(canonicalize_name(name) for manifest in manifests for name in manifest["packages"]),
        advisories=tuple(records.values()),
    )


def pinned(requirements: Path) -> dict[str, str]:
    """canonical name → version of every pin in a requirements file, following `-r` includes. Anything but
    `name[extras]==version` is refused: an unpinned requirement cannot be audited."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(requirements.read_text().splitlines(), start=1):
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins.update(pinned(requirements.parent / line.split(maxsplit=1)[1]))
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            raise ValueError(f"{requirements.name} line {number}: {line!r} is not a requirement") from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            raise ValueError(f"{requirements.name} line {number}: {line!r} is not pinned (name==version)")
        pins[canonicalize_name(requirement.name)] = specifiers[0].version
    return pins


def read_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """vulnerability id → why it is accepted. Blank lines and lines starting with # are comments."""
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        vulnerability, _, reason = line.strip().partition(" ")
        where = f"{path.name} line {number}"
        if not VULNERABILITY_ID.fullmatch(vulnerability):
            raise ValueError(f"{where}: {vulnerability!r} is not a vulnerability id")
        if not reason.strip():
            raise ValueError(f"{where}: {vulnerability} has no reason")
        if vulnerability in entries:
            raise ValueError(f"{where}: {vulnerability} is listed twice")
        entries[vulnerability] = reason.strip()
    return entries


def parse_report(text: str) -> AuditResult:
    """pip-audit's --format json output → what was audited, skipped and found (canonical package names)."""
    try:
        dependencies = json.loads(text)["dependencies"]
    except (ValueError, KeyError, TypeError):
        raise AuditError(f"pip-audit's output is not its JSON report: {text[:200]!r}") from None
    name = canonicalize_name
    audited = tuple(name(entry["name"]) for entry in dependencies if "skip_reason" not in entry)
    skipped = {name(entry["name"]): entry["skip_reason"] for entry in dependencies if "skip_reason" in entry}
    findings = tuple(
        Finding(name(entry["name"]), entry["version"], vuln["id"], tuple(vuln.get("fix_versions", ())))
        for entry in dependencies
        for vuln in entry.get("vulns", ())
    )
    return AuditResult(audited, skipped, findings)


def run_pip_audit(
    requirements: Path | Sequence[Path] = REQUIREMENTS,
    ignored: Iterable[str] = (),
    osv_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AuditResult:
    """Audit fully pinned requirements as they are (no resolution, no virtual environment), against PyPI's
    vulnerability data or, given `osv_url`, the OSV query API there."""
    files = [requirements] if isinstance(requirements, Path) else list(requirements)
    service = ("--vulnerability-service", "osv", "--osv-url", osv_url) if osv_url else ()
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        *chain.from_iterable(("--requirement", str(path)) for path in files),
        "--no-deps",
        "--disable-pip",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        *service,
        *chain.from_iterable(("--ignore-vuln", vulnerability) for vulnerability in ignored),
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        raise AuditError(f"pip-audit did not finish within {TIMEOUT_SECONDS} s") from None
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AuditError(f"pip-audit exited {completed.returncode}: {tail[0]}")
    return parse_report(completed.stdout)


def audit_offline(
    snapshot: Snapshot, requirements: Sequence[Path] = REQUIREMENT_FILES, ignored: Iterable[str] = ()
) -> AuditResult:
    """The real pip-audit against the snapshot's records, served on loopback; pins outside the snapshot are
    reported as not audited, whatever pip-audit says of them."""
    pins: dict[str, str] = {}
    for path in requirements:
        pins.update(pinned(path))
    # The query goes to 127.0.0.1 even where a proxy is configured for everything else.
    no_proxy = ",".join(filter(None, [os.environ.get("no_proxy", ""), "127.0.0.1"]))
    env = {**os.environ, "no_proxy": no_proxy, "NO_PROXY": no_proxy}
    with OsvServer(snapshot.advisories) as server:
        result = run_pip_audit(requirements, ignored, server.url, env)
    uncovered = {
        package: f"{package} is not in the {snapshot.date} snapshot: add it with {SUPPLEMENT_COMMAND}"
        for package in pins
        if package not in snapshot.packages
    }
    return AuditResult(
        tuple(package for package in result.audited if package not in uncovered),
        {**result.skipped, **uncovered},
        result.findings,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.security.audit", description="pip-audit over pinned requirements, with an allowlist"
    )
    parser.add_argument(
        "--requirement",
        type=Path,
        action="append",
        help="pinned requirements file to audit (repeatable; default: requirements.txt and requirements-dev.txt)",
    )
    parser.add_argument(
        "--snapshot", type=Path, default=SHARED_SNAPSHOT, help="offline OSV snapshot (default: %(default)s)"
    )
    parser.add_argument("--online", action="store_true", help="ask a live database instead of the snapshot")
    parser.add_argument("--osv-url", help="with --online: this OSV API (e.g. https://api.osv.dev/v1/query), not PyPI")
    args = parser.parse_args(argv)
    requirements = args.requirement or list(REQUIREMENT_FILES)
    names = ", ".join(path.name for path in requirements)
    try:
        allowlist = read_allowlist()
        if args.online:
            result = run_pip_audit(requirements, allowlist, args.osv_url)
            print(f"{names}: live vulnerability data ({args.osv_url or 'PyPI JSON API'})")
        else:
            snapshot = load_snapshot(args.snapshot)
            print(f"{names}: {snapshot.describe()}")
            result = audit_offline(snapshot, requirements, allowlist)
    except AuditError as error:
        print(f"NOT AUDITED: {error}", file=sys.stderr)
        return NOT_AUDITED
    print(result.summary(), file=sys.stderr if result.status else sys.stdout)
    return result.status


if __name__ == "__main__":
    raise SystemExit(main())
