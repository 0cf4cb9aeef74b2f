"""The soak of tests/reliability/soak.py for one minute, as CI runs it (`python -m tests.reliability.soak` runs ten):
load on every content type while the S3 catalogue is rewritten with valid and corrupt versions under S3 faults."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.server import REPO

pytestmark = [pytest.mark.mms, pytest.mark.s3]
CI_MINUTES = 1


def test_one_minute_of_load_under_s3_faults_and_catalogue_rewrites_loses_nothing(servers):
    servers.stop()  # the soak starts its own server, under the same host-wide lock
    command = [sys.executable, "-m", "tests.reliability.soak", "--minutes", str(CI_MINUTES)]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=CI_MINUTES * 60 + 150)
    assert completed.stdout, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    rss = ", ".join(f"{row['role']} {row['start_mb']}->{row['end_mb']} MB" for row in report["rss_mb"])
    print(
        f"soak {report['duration_seconds']} s: {report['requests']} requests, {report['failed']} failed,"
        f" {report['new_valid_versions_served']} new catalogues served, RSS {rss}"
    )
    assert report["reasons"] == []
    assert report["passed"] and completed.returncode == 0
