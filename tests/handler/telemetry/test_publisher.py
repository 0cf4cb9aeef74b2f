"""The publisher side thread: snapshots for GET /metrics, EMF only when enabled, one final flush, and the launcher's
request for that final flush, which must never signal a process that is not an MMS worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import config
from handler.telemetry.metrics import Recorder, WorkerState
from handler.telemetry.publisher import METRICS_DIR, MetricsPublisher, flush_workers
from tests.support.emf import emf_problems

STATE = WorkerState("pair-trees", "m-1", "c-1", 1.0, None, 0, 0, 0)


def publisher(tmp_path, **env: str) -> MetricsPublisher:
    settings = config.from_env({"CONTROL_DIR": str(tmp_path), **env})
    return MetricsPublisher(Recorder(), lambda: STATE, settings, pid=4242)


def test_snapshots_are_written_for_the_plugin_and_emf_is_printed_only_when_enabled(tmp_path, capsys):
    off = publisher(tmp_path)
    off.recorder.record(200, (0.1, 0.2, 0.3), 1, 5)
    path = off.publish_snapshot()
    assert path == tmp_path / METRICS_DIR / "4242.prom"
    assert 'approval_odds_invocations_total{worker="4242",status_class="2xx"} 1' in path.read_text()
    assert off.flush_emf() is None and capsys.readouterr().out == ""
    off.close()
    assert not path.exists()  # gone with the worker: the plugin stops merging it


def test_close_prints_the_last_interval_once(tmp_path, capsys):
    on = publisher(tmp_path, METRICS_EMF="true").start()
    on.recorder.record(200, (0.1, 0.2, 0.3), 2, 10)
    on.close()
    on.close()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1 and emf_problems(lines[0]) == []
    assert (lines[0]["Invocations2XX"], lines[0]["PairsScored"], lines[0]["Worker"]) == (1, 10, 4242)


def test_flush_workers_signals_only_mms_workers_and_skips_stale_files(tmp_path):
    directory = tmp_path / METRICS_DIR
    directory.mkdir()
    (directory / f"{os.getpid()}.prom").write_text("")  # this test process: not a worker, must not be signalled
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (directory / f"{dead.stdout.strip()}.prom").write_text("")
    assert flush_workers(tmp_path, timeout=1.0) is True  # nothing it may signal: nothing to wait for
    assert (directory / f"{os.getpid()}.prom").exists()


@pytest.mark.timeout(60)
def test_a_worker_asked_to_flush_prints_its_interval_and_removes_its_file(tmp_path):
    """A real process whose command line names model_service_worker.py, as MMS's workers' do."""
    worker = tmp_path / "model_service_worker.py"
    worker.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(config.settings.REPO_ROOT)!r})
            import config
            from handler.telemetry.metrics import Recorder, WorkerState
            from handler.telemetry.publisher import MetricsPublisher
            settings = config.from_env({{"CONTROL_DIR": {str(tmp_path)!r}, "METRICS_EMF": "true"}})
            state = WorkerState("pair-trees", "m-1", "c-1", 1.0, None, 0, 0, 0)
            publisher = MetricsPublisher(Recorder(), lambda: state, settings).start()
            publisher.recorder.record(200, (0.1, 0.2, 0.3), 3, 9)
            print("ready", flush=True)
            time.sleep(30)
            """
        )
    )
    process = subprocess.Popen([sys.executable, str(worker)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "ready\n"
        assert flush_workers(tmp_path, timeout=20) is True
        line = json.loads(process.stdout.readline())
        assert emf_problems(line) == [] and line["ApplicantsScored"] == 3
        assert process.poll() is None  # the worker flushed and lives on until MMS stops it
    finally:
        process.kill()
        process.wait()
