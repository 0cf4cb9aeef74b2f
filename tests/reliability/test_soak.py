"""The soak of tests/reliability/soak.py for one minute after its warm-up, as CI runs it (`make soak` runs ten): load
on every content type while the S3 catalogue is rewritten with valid and corrupt versions under S3 faults.

The soak's verdict is behaviour (nothing failed, only valid catalogues served, memory within its allowance over a
baseline of the same run); its figures (rates, RSS, the JVM's live heap) go to build/reports/soak-ci.json.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.reliability.soak import WARM_UP_LIMIT_SECONDS
from tests.support import figures
from tests.support.server import REPO
from tests.support.waiting import HANG_GUARD_SECONDS

CI_MINUTES = 1
REPORT = REPO / "build" / "reports" / "soak-ci.json"
# Hang guard: server start and stop, the warm-up's own limit, the measured minute, with room for a busy machine.
LIMIT_SECONDS = 4 * HANG_GUARD_SECONDS + WARM_UP_LIMIT_SECONDS + CI_MINUTES * 60

pytestmark = [pytest.mark.mms, pytest.mark.s3, pytest.mark.timeout(LIMIT_SECONDS + 60)]


def test_one_minute_of_load_under_s3_faults_and_catalogue_rewrites_loses_nothing(servers):
    servers.stop()  # the soak starts its own server, under the same host-wide lock
    command = [sys.executable, "-m", "tests.reliability.soak", "--minutes", str(CI_MINUTES), "--report", str(REPORT)]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=LIMIT_SECONDS)
    assert completed.stdout, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    figures.record("soak requests per second after warm-up", report["requests_per_second_after_warm_up"], "req/s")
    figures.record("soak warm-up", report["warm_up"]["seconds"], "s")
    for row in report["rss_mb"]:
        figures.record(f"soak RSS growth, {row['role']} {row['pid']}", row["growth_mb"] or 0, "MB", **row_context(row))
    figures.record("soak JVM live heap growth", report["java_live_heap_mb"]["growth_mb"] or 0, "MB")
    assert report["reasons"] == []
    assert report["passed"] and completed.returncode == 0


def row_context(row: dict) -> dict:
    return {key: row[key] for key in ("baseline_mb", "end_mb", "allowance_mb", "judged")}
