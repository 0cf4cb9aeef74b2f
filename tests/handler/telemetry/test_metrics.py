"""A worker's figures: counters by status class, stage latency histograms, counts scored; intervals as differences."""

import pytest

from handler.telemetry.metrics import LATENCY_BOUNDS_MS, STAGES, Recorder, WorkerState

STATE = WorkerState("pair-trees", "m-1", "c-1", 12.5, None, 3, 1, 2)


def test_each_request_is_counted_by_status_class_with_its_stage_latencies_and_counts():
    recorder = Recorder()
    recorder.record(200, (0.2, 0.03, 0.01), applicants=2, pairs=8)
    recorder.record(200, (0.3, 7.0, 0.02), applicants=1, pairs=4)
    recorder.record(400, (0.1, None, None), applicants=0, pairs=0)
    recorder.record(500, (0.1, 0.4, None), applicants=3, pairs=0)
    snapshot = recorder.snapshot(1000.0, STATE)
    assert snapshot.invocations == {"2xx": 2, "4xx": 1, "5xx": 1}
    assert [snapshot.latency[stage].count for stage in STAGES] == [4, 3, 2]
    assert snapshot.latency["score"].total == pytest.approx(0.03 + 7.0 + 0.4)
    assert (snapshot.applicants, snapshot.pairs) == (6, 12)
    assert snapshot.state is STATE


def test_a_latency_falls_in_the_first_bucket_whose_bound_it_does_not_exceed():
    recorder = Recorder()
    bound = LATENCY_BOUNDS_MS[5]
    for ms in (bound, bound * 1.0001, LATENCY_BOUNDS_MS[-1] * 2):
        recorder.record(200, (ms, None, None), 1, 1)
    counts = recorder.snapshot(0.0, STATE).latency["decode"].counts
    assert counts[5] == 1 and counts[6] == 1 and counts[-1] == 1
    assert len(counts) == len(LATENCY_BOUNDS_MS) + 1


def test_an_interval_is_the_difference_of_two_snapshots_and_keeps_the_later_state():
    recorder = Recorder()
    recorder.record(200, (1.0, 1.0, 1.0), 1, 4)
    first = recorder.snapshot(10.0, STATE)
    recorder.record(200, (2.0, 2.0, 2.0), 2, 8)
    recorder.record(400, (0.5, None, None), 0, 0)
    later = WorkerState("sklearn", "m-1", "c-2", 0.5, 3.0, 5, 1, 4)
    interval = recorder.snapshot(70.0, later).since(first)
    assert interval.invocations == {"2xx": 1, "4xx": 1, "5xx": 0}
    assert interval.latency["decode"].count == 2 and interval.latency["encode"].count == 1
    assert (interval.applicants, interval.pairs) == (2, 8)
    assert (interval.state.refresh_successes, interval.state.refresh_failures, interval.state.refresh_rejections) == (
        2,
        0,
        2,
    )
    assert (interval.state.engine, interval.state.catalog_version, interval.taken_at) == ("sklearn", "c-2", 70.0)
    assert recorder.snapshot(70.0, later).since(None).invocations == {"2xx": 2, "4xx": 1, "5xx": 0}
