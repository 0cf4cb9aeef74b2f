"""A worker's exposition parses with prometheus_client's own parser and holds the same figures as its snapshot."""

from prometheus_client.parser import text_string_to_metric_families

from handler.telemetry.metrics import Recorder, WorkerState
from handler.telemetry.prometheus import exposition


def test_the_exposition_parses_and_holds_the_cumulative_figures_per_worker():
    recorder = Recorder()
    for ms in (0.2, 0.3, 40.0):
        recorder.record(200, (ms, 1.0, 0.01), applicants=1, pairs=5)
    recorder.record(415, (0.05, None, None), 0, 0)
    state = WorkerState("onnxruntime", "m-1", 'c"1', 3.5, 7.25, 4, 2, 1)
    families = {
        family.name: family
        for family in text_string_to_metric_families(exposition(recorder.snapshot(100.0, state), worker=77))
    }
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families.values()
        for sample in family.samples
    }
    worker = (("worker", "77"),)
    assert families["approval_odds_invocations"].type == "counter"
    assert samples["approval_odds_invocations_total", (("status_class", "2xx"), *worker)] == 3
    assert samples["approval_odds_invocations_total", (("status_class", "4xx"), *worker)] == 1
    assert families["approval_odds_stage_latency_seconds"].type == "histogram"
    decode = (("stage", "decode"), *worker)
    assert samples["approval_odds_stage_latency_seconds_count", decode] == 4
    assert abs(samples["approval_odds_stage_latency_seconds_sum", decode] - 0.04055) < 1e-12
    assert samples["approval_odds_stage_latency_seconds_bucket", (("le", "0.0005"), *decode)] == 3
    assert samples["approval_odds_stage_latency_seconds_bucket", (("le", "+Inf"), *decode)] == 4
    assert samples["approval_odds_applicants_scored_total", worker] == 3
    assert samples["approval_odds_pairs_scored_total", worker] == 15
    assert samples["approval_odds_catalog_refreshes_total", (("outcome", "failure"), *worker)] == 2
    assert samples["approval_odds_catalog_age_seconds", worker] == 3.5
    assert samples["approval_odds_seconds_since_catalog_refresh", worker] == 7.25
    info = (("catalog_version", 'c"1'), ("engine", "onnxruntime"), ("model_version", "m-1"), *worker)
    assert samples["approval_odds_info", info] == 1
