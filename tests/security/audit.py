"""Dependency audit: pip-audit over requirements.txt (every package the image installs), with an allowlist.

    .venv/bin/python -m tests.security.audit [--requirement FILE] [--osv-url URL]

pip-audit looks every pin up in PyPI's vulnerability data over the network. Where it cannot (no network, or a
package index that does not serve PyPI's JSON API), pip-audit skips the package, prints "No known vulnerabilities
found" and exits 0 — a pass that checked nothing. This wrapper counts skipped packages and says so instead.

Exit status: 0 every pin audited and nothing found beyond the allowlist; 1 vulnerabilities found; 2 not audited.
The allowlist (.ci/pip-audit-allowlist.txt) holds one vulnerability id per line followed by the reason it is
accepted; an entry without a reason is an error.

By default pip-audit asks PyPI's JSON API. --osv-url sends its queries to an OSV query API instead (pip-audit
--vulnerability-service osv): api.osv.dev/v1/query, a mirror, or the loopback server the tests start
(tests/security/osv_server.py) to prove this wrapper finds vulnerabilities and honours the allowlist.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "requirements.txt"
ALLOWLIST = REPO / ".ci" / "pip-audit-allowlist.txt"
TIMEOUT_SECONDS = 300
VULNERABILITY_ID = re.compile(r"[A-Z][A-Z0-9]*-[A-Za-z0-9-]+")  # PYSEC-2023-1, GHSA-xxxx-xxxx-xxxx, CVE-2024-1
CLEAN, VULNERABLE, NOT_AUDITED = 0, 1, 2


class AuditError(Exception):
    """pip-audit did not produce a report (it could not run, or crashed reaching its service)."""


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vulnerability: str
    fix_versions: tuple[str, ...]


@dataclass(frozen=True)
class AuditResult:
    audited: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)  # package → pip-audit's reason
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
            return (
                f"NOT AUDITED: pip-audit could not check {len(self.skipped)} of "
                f"{len(self.skipped) + len(self.audited)} pins against the vulnerability database, e.g. {reason}"
            )
        return f"{len(self.audited)} pins audited: no known vulnerabilities beyond the allowlist"


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
    """pip-audit's --format json output → what was audited, skipped and found."""
    try:
        dependencies = json.loads(text)["dependencies"]
    except (ValueError, KeyError, TypeError):
        raise AuditError(f"pip-audit's output is not its JSON report: {text[:200]!r}") from None
    audited = tuple(entry["name"] for entry in dependencies if "skip_reason" not in entry)
    skipped = {entry["name"]: entry["skip_reason"] for entry in dependencies if "skip_reason" in entry}
    findings = tuple(
        Finding(entry["name"], entry["version"], vuln["id"], tuple(vuln.get("fix_versions", ())))
        for entry in dependencies
        for vuln in entry.get("vulns", ())
    )
    return AuditResult(audited, skipped, findings)


def run_pip_audit(
    requirements: Path = REQUIREMENTS, ignored: Iterable[str] = (), osv_url: str | None = None
) -> AuditResult:
    """Audit fully pinned requirements as they are (no resolution, no virtual environment), against PyPI's
    vulnerability data or, given `osv_url`, the OSV query API there."""
    service = ("--vulnerability-service", "osv", "--osv-url", osv_url) if osv_url else ()
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(requirements),
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
        completed = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise AuditError(f"pip-audit did not finish within {TIMEOUT_SECONDS} s") from None
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AuditError(f"pip-audit exited {completed.returncode}: {tail[0]}")
    return parse_report(completed.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.security.audit", description="pip-audit over pinned requirements, with an allowlist"
    )
    parser.add_argument("--requirement", type=Path, default=REQUIREMENTS, help="pinned requirements file to audit")
    parser.add_argument("--osv-url", help="query this OSV API (e.g. https://api.osv.dev/v1/query) instead of PyPI")
    args = parser.parse_args(argv)
    try:
        result = run_pip_audit(args.requirement, read_allowlist(), args.osv_url)
    except AuditError as error:
        print(f"NOT AUDITED: {error}", file=sys.stderr)
        return NOT_AUDITED
    print(result.summary(), file=sys.stderr if result.status else sys.stdout)
    return result.status


if __name__ == "__main__":
    raise SystemExit(main())
