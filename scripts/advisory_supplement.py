"""Write OSV records for the pins that ../shared/advisories does not cover, from the same advisory-database commit.

    .venv/bin/python scripts/advisory_supplement.py --database GIT_DIR [--out tests/security/advisory-supplement]

The shared snapshot (PyPA advisory database, see its manifest.json) was cut for the pins of its day. A pin added
since has no data there, and the offline audit reports it NOT AUDITED. This script reads a git checkout or mirror of
the same database (GIT_DIR: a .git directory or a bare repository) AT THE SNAPSHOT'S COMMIT, converts each uncovered
pin's vulns/<package>/*.yaml to JSON unchanged (timestamps kept as strings) and writes a manifest naming the same
source, commit and date plus every package it looked up (a package without a vulns/ directory has no advisory at that
date). Rerun it whenever a pin is added; it replaces the whole supplement.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.security.audit import REQUIREMENT_FILES, SHARED_SNAPSHOT, SUPPLEMENT, pinned  # noqa: E402


class _StringTimestamps(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as the strings they are in OSV JSON (pip-audit needs strings)."""


_StringTimestamps.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def git(database: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(database), *args], capture_output=True, text=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", type=Path, required=True, help="git dir of the PyPA advisory database")
    parser.add_argument("--shared", type=Path, default=SHARED_SNAPSHOT, help="the shared snapshot (its manifest)")
    parser.add_argument("--out", type=Path, default=SUPPLEMENT)
    args = parser.parse_args(argv)
    shared = json.loads((args.shared / "manifest.json").read_text())
    commit = shared["commit"]
    pins = set().union(*(pinned(path) for path in REQUIREMENT_FILES))
    uncovered = sorted(pins - set(shared["packages"]))
    # Directory names are the package names as published; compare them canonicalised.
    directories = {
        canonicalize_name(line.removeprefix("vulns/")): line
        for line in git(args.database, "ls-tree", "--name-only", commit, "vulns/").splitlines()
    }
    records: dict[str, dict] = {}
    for package in (name for name in uncovered if name in directories):
        listing = git(args.database, "ls-tree", "--name-only", commit, f"{directories[package]}/")
        for path in sorted(line for line in listing.splitlines() if line.endswith(".yaml")):
            record = yaml.load(git(args.database, "show", f"{commit}:{path}"), Loader=_StringTimestamps)
            records[record["id"]] = record
    shutil.rmtree(args.out / "osv", ignore_errors=True)
    (args.out / "osv").mkdir(parents=True)
    for identifier, record in records.items():
        (args.out / "osv" / f"{identifier}.json").write_text(json.dumps(record, indent=2) + "\n")
    manifest = {
        "source": shared["source"],
        "commit": commit,
        "commit_date": git(args.database, "log", "-1", "--format=%cI", commit).strip(),
        "supplements": "the shared snapshot (../shared/advisories): pins it does not cover",
        "packages": uncovered,
        "records": len(records),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(records)} records for {len(uncovered)} packages ({', '.join(uncovered) or 'none'}) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
