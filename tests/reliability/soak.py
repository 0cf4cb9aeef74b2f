"""Soak: saturating, bounded load on every content type while the S3 card catalogue is rewritten every few seconds
with valid and corrupt versions and a fault proxy between the server and S3 injects faults.

    .venv/bin/python -m tests.reliability.soak --minutes 10

Everything is real and on loopback: SeaweedFS for S3, the fault proxy of tests/s3_fixtures.py, `entrypoint.py serve`
(MMS, 2 workers) with CARD_VARIABLES_S3_URI and a 1 s refresh interval. The run is a warm-up measured in work (every
request kind answered WARM_UP_ROUNDS times, however long a busy machine takes), then --minutes of load. Passes when no
request failed, every answer was scored against a valid catalogue (catalog_version in the versions of the valid files
uploaded), the service took at least two new catalogues during the run, no worker restarted, and no process's memory
grew past its allowance over its own baseline measured after the warm-up (tests/reliability/memory.py). Prints a JSON
report with every figure (rates, RSS series and trend per process, the JVM's live heap); exits 0 on a pass, 1
otherwise; --report also writes it to a file. Holds the host-wide MMS lock while the server runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handler.model.artifact import load_artifact
from handler.model.catalog import CATALOG_FILE
from tests.reliability import memory
from tests.reliability.catalogues import classify, corrupt_versions, valid_edit, version_of
from tests.reliability.load import JSON, Load, applicants, request, standard_mix
from tests.s3_fixtures import Bucket, Fault, FaultProxy, SeaweedS3, aws_env
from tests.support.server import REPO, HostLock, Server

DEMO_MODEL = REPO / "build" / "demo-model"
KEY = "catalogue/card_variables.csv"
REWRITE_SECONDS = 2.5
CLIENTS = 8
# Warm-up is counted in answers, not seconds: on a busy machine the JIT, the allocators and the caches settle after
# the same work, which takes longer. The limit is only a hang guard for a server that never answers.
WARM_UP_ROUNDS = 30
WARM_UP_LIMIT_SECONDS = 300.0
# (fault, seconds): S3 trouble of every kind, with healthy spells between so that valid versions get through.
FAULT_PLAN = [
    (Fault.NONE, 3.0),
    (Fault.LATENCY, 3.0),  # 0.3 s per chunk: slow but inside the read timeout
    (Fault.NONE, 2.0),
    (Fault.RESET_ON_ACCEPT, 3.0),
    (Fault.NONE, 2.0),
    (Fault.RESET_MID_BODY, 3.0),
    (Fault.NONE, 2.0),
    (Fault.SERVICE_UNAVAILABLE, 3.0),
    (Fault.NONE, 2.0),
    ("refuse", 3.0),  # nothing listening: connection refused
    (Fault.NONE, 2.0),
    ("stall", 3.0),  # 2 s per chunk: past the read timeout
]


@dataclass
class Uploads:
    """What was put in S3: the versions of valid files, and how many corrupt ones."""

    valid: set[str] = field(default_factory=set)
    corrupt: Counter = field(default_factory=Counter)


class Rewriter(threading.Thread):
    """Uploads valid and corrupt catalogues alternately, every REWRITE_SECONDS."""

    def __init__(self, bucket: Bucket, base: bytes, corrupt: dict[str, bytes], uploads: Uploads) -> None:
        super().__init__(name="catalogue-rewriter", daemon=True)
        self.bucket, self.base, self.corrupt, self.uploads = bucket, base, corrupt, uploads
        self.stop = threading.Event()

    def run(self) -> None:
        broken = itertools.cycle(self.corrupt.items())
        for serial in itertools.count(1):
            if self.stop.wait(REWRITE_SECONDS):
                return
            if serial % 2:
                data = valid_edit(self.base, serial)
                self.uploads.valid.add(version_of(data))
            else:
                name, data = next(broken)
                self.uploads.corrupt[name] += 1
            self.bucket.put(KEY, data)


class FaultInjector(threading.Thread):
    """Steps the fault proxy through FAULT_PLAN until stopped, then leaves it healthy."""

    def __init__(self, proxy: FaultProxy) -> None:
        super().__init__(name="fault-injector", daemon=True)
        self.proxy = proxy
        self.injected: Counter = Counter()
        self.stop = threading.Event()
        self.refusing = False

    def run(self) -> None:
        for fault, seconds in itertools.cycle(FAULT_PLAN):
            self.apply(fault)
            if self.stop.wait(seconds):
                break
        self.apply(Fault.NONE)

    def apply(self, fault: Fault | str) -> None:
        self.injected[fault if isinstance(fault, str) else fault.value] += 1
        if fault == "refuse":
            self.proxy.refuse()
            self.refusing = True
            return
        if self.refusing:
            self.proxy.listen()
            self.refusing = False
        if fault == "stall":
            self.proxy.set(Fault.LATENCY, latency=2.0)
        else:
            self.proxy.set(fault, latency=0.3 if fault is Fault.LATENCY else 0.0)


def server_env(bucket: Bucket, proxy: FaultProxy) -> dict[str, str]:
    return {
        "MODEL_DIR": str(DEMO_MODEL),
        "CARD_VARIABLES_S3_URI": bucket.uri(KEY),
        "CARD_VARIABLES_REFRESH_SECONDS": "1",
        "CARD_VARIABLES_S3_CONNECT_TIMEOUT_SECONDS": "0.5",
        "CARD_VARIABLES_S3_READ_TIMEOUT_SECONDS": "1",
        "CARD_VARIABLES_S3_ATTEMPTS": "2",
        **aws_env(proxy.endpoint),
    }


def soak(seconds: float, clients: int, scratch: Path) -> dict[str, Any]:
    """Start SeaweedFS, the fault proxy and the server; run; return the report."""
    s3 = SeaweedS3(scratch / "s3").start()
    proxy = FaultProxy(s3.port).start()
    lock = HostLock()
    try:
        bucket = Bucket(s3, f"soak-{uuid.uuid4().hex[:8]}")
        bucket.put(KEY, (DEMO_MODEL / CATALOG_FILE).read_bytes())
        lock.acquire()
        server = Server(scratch / "server", server_env(bucket, proxy)).start()
        try:
            return Soak(server, bucket, proxy, scratch / "unpickled").run(seconds, clients)
        finally:
            server.terminate()
    finally:
        lock.release()
        proxy.stop()
        s3.stop()


class Soak:
    def __init__(self, server: Server, bucket: Bucket, proxy: FaultProxy, marker: Path) -> None:
        artifact = load_artifact(DEMO_MODEL)
        self.base = (DEMO_MODEL / CATALOG_FILE).read_bytes()
        corrupt = corrupt_versions(self.base, marker)
        accepted = [
            name
            for name, data in corrupt.items()
            if classify(data, artifact.metadata, artifact.bundled_catalog) is None
        ]
        if accepted:
            raise AssertionError(f"these 'corrupt' catalogues would be accepted: {accepted}")
        self.server, self.proxy, self.marker = server, proxy, marker
        self.active = list(artifact.bundled_catalog.active_ids)
        self.uploads = Uploads(valid={version_of(self.base)})
        self.rewriter = Rewriter(bucket, self.base, corrupt, self.uploads)
        self.faults = FaultInjector(proxy)

    def run(self, seconds: float, clients: int) -> dict[str, Any]:
        workers = self.server.worker_pids()
        load = Load(self.server.url, standard_mix(len(self.active), self.active), threads=clients)
        # A caller asking for a refresh before scoring: the worker goes to S3 inside the request, faults and all.
        refresh = request("json refresh>json", JSON, JSON, applicants(1, 50), attributes="refresh-card-variables=true")
        refreshing = Load(self.server.url, [refresh], threads=1, pause_seconds=1.0)
        started = time.monotonic()
        for part in (self.rewriter, self.faults, load, refreshing):
            part.start()
        warmed_up = self.warm_up(load)
        warm_up_seconds = time.monotonic() - started
        java = memory.java_pid(self.server)
        heap_baseline = memory.live_heap_mb(java) if java else None
        sampler = memory.Sampler(self.server)
        sampler.start()
        measured_from, sent_before = time.monotonic(), load.tally.sent
        deadline = measured_from + seconds
        while time.monotonic() < deadline and self.server.process.poll() is None:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        heap_end = memory.live_heap_mb(java) if java else None
        sampler.stop.set()
        sampler.join()
        self.rewriter.stop.set()
        self.faults.stop.set()
        finished = load.join() & refreshing.join()
        elapsed = time.monotonic() - started
        measured_seconds = time.monotonic() - measured_from
        rss = memory.rss_report(sampler.samples)
        heap = memory.heap_report(heap_baseline, heap_end)
        self.rewriter.join(10)
        self.faults.join(10)
        failures = [*load.tally.failures, *refreshing.tally.failures]
        served = load.tally.versions + refreshing.tally.versions
        requests_sent = load.tally.sent + refreshing.tally.sent
        report = {
            "duration_seconds": round(elapsed, 1),
            "warm_up": {"completed": warmed_up, "seconds": round(warm_up_seconds, 1), "rounds": WARM_UP_ROUNDS},
            "requests": requests_sent,
            "requests_per_second_after_warm_up": round((load.tally.sent - sent_before) / measured_seconds, 1),
            "failed": load.tally.failed + refreshing.tally.failed,
            "failures": [vars(failure) for failure in failures[:20]],
            "by_request": dict(load.tally.by_request + refreshing.tally.by_request),
            "catalogues_uploaded": {"valid": len(self.uploads.valid) - 1, "corrupt": dict(self.uploads.corrupt)},
            "catalogue_versions_served": dict(served.most_common()),
            "new_valid_versions_served": len(set(served) & self.uploads.valid - {version_of(self.base)}),
            "catalogue_rejections_logged": self.server.log_text().count("rejected:"),
            "faults_injected": dict(self.faults.injected),
            "s3_connections": self.proxy.accepted,
            "rss_mb": rss,
            "java_live_heap_mb": heap,
            "workers_restarted": self.server.worker_pids() != workers,
            "clients_finished": finished,
        }
        reasons = self.verdict(report, served)
        return {"passed": not reasons, "reasons": reasons, **report}

    def warm_up(self, load: Load) -> bool:
        """Until every request kind has been answered WARM_UP_ROUNDS times; False if the hang guard ran out."""
        deadline = time.monotonic() + WARM_UP_LIMIT_SECONDS
        kinds = len(load.mix)
        while time.monotonic() < deadline and self.server.process.poll() is None:
            answered = dict(load.tally.by_request)  # a copy: the clients add to it meanwhile
            if len(answered) == kinds and min(answered.values()) >= WARM_UP_ROUNDS:
                return True
            time.sleep(0.2)
        return False

    def verdict(self, report: dict[str, Any], served: Counter) -> list[str]:
        invalid = sorted(set(served) - self.uploads.valid)
        grown = memory.grown(report["rss_mb"], report["java_live_heap_mb"])
        checks = {
            f"{report['failed']} requests failed": report["failed"] > 0,
            f"answers scored against catalogues never uploaded as valid: {invalid}": bool(invalid),
            "fewer than 2 new valid catalogues were served: no refresh got through": report["new_valid_versions_served"]
            < 2,
            "a worker restarted": report["workers_restarted"],
            f"the warm-up did not complete within {WARM_UP_LIMIT_SECONDS:g} s": not report["warm_up"]["completed"],
            f"memory grew past its allowance over the baseline: {grown}": bool(grown),
            "the JVM's live heap could not be measured (jcmd)": report["java_live_heap_mb"]["growth_mb"] is None,
            "clients were still waiting at the end": not report["clients_finished"],
            "the server exited during the soak": self.server.process.poll() is not None,
            "a catalogue was unpickled": self.marker.exists(),
        }
        return [reason for reason, failed in checks.items() if failed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="load after the warm-up (default 10)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"concurrent clients (default {CLIENTS})")
    parser.add_argument("--report", type=Path, help="also write the JSON report to this file")
    arguments = parser.parse_args(argv)
    if not (DEMO_MODEL / "model_metadata.json").exists():
        parser.error(f"{DEMO_MODEL} is missing: run `make demo-model` first")
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        report = soak(arguments.minutes * 60, arguments.clients, Path(scratch))
    text = json.dumps(report, indent=2)
    if arguments.report:
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        arguments.report.write_text(text + "\n")
    print(text)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
