"""EMF lines: valid by the EMF specification, one per interval, namespace and dimensions as configured."""

import json

import pytest

import config
from handler.telemetry.emf import emf_document, emf_line
from handler.telemetry.metrics import Recorder, WorkerState
from tests.support.emf import emf_problems

STATE = WorkerState("pair-trees", "m-7", "c-9", 42.0, 61.5, 2, 1, 1)


def interval():
    recorder = Recorder()
    start = recorder.snapshot(1_700_000_000.0, WorkerState("pair-trees", "m-7", "c-8", 1.0, 1.0, 1, 0, 0))
    for ms in (0.2, 0.2, 0.3, 4.0):
        recorder.record(200, (ms, ms / 2, 0.05), applicants=2, pairs=20)
    recorder.record(400, (0.1, None, None), applicants=0, pairs=0)
    return recorder.snapshot(1_700_000_060.25, STATE).since(start)


def test_the_document_passes_the_emf_schema_with_every_figure_as_a_top_level_member():
    settings = config.from_env({"METRICS_ENDPOINT_NAME": "odds-prod", "METRICS_VARIANT_NAME": "blue"})
    document = json.loads(emf_line(interval(), settings, worker=4321))
    assert emf_problems(document) == []
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert document["_aws"]["Timestamp"] == 1_700_000_060_250
    assert directive["Namespace"] == "ApprovalOdds"
    assert directive["Dimensions"] == [["EndpointName", "VariantName"]]
    assert (document["EndpointName"], document["VariantName"]) == ("odds-prod", "blue")
    units = {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]}
    assert units == {
        "Invocations2XX": "Count",
        "Invocations4XX": "Count",
        "Invocations5XX": "Count",
        "DecodeLatency": "Milliseconds",
        "ScoreLatency": "Milliseconds",
        "EncodeLatency": "Milliseconds",
        "ApplicantsScored": "Count",
        "PairsScored": "Count",
        "CatalogAgeSeconds": "Seconds",
        "SecondsSinceCatalogRefresh": "Seconds",
        "CatalogRefreshSuccesses": "Count",
        "CatalogRefreshFailures": "Count",
        "CatalogRefreshRejections": "Count",
    }
    assert (document["Invocations2XX"], document["Invocations4XX"], document["Invocations5XX"]) == (4, 1, 0)
    assert (document["ApplicantsScored"], document["PairsScored"]) == (8, 80)
    assert (document["CatalogRefreshSuccesses"], document["CatalogRefreshFailures"]) == (1, 1)
    assert (document["CatalogAgeSeconds"], document["SecondsSinceCatalogRefresh"]) == (42.0, 61.5)
    assert (document["Engine"], document["ModelVersion"], document["CatalogVersion"]) == ("pair-trees", "m-7", "c-9")
    # It is also a log line like every other one.
    assert {"time", "level", "logger", "message"} <= document.keys()


def test_latency_is_a_values_and_counts_distribution_with_exact_count_and_sum():
    decode = emf_document(interval(), config.from_env({}), worker=1)["DecodeLatency"]
    assert sum(decode["Counts"]) == decode["Count"] == 5
    assert decode["Sum"] == pytest.approx(0.2 + 0.2 + 0.3 + 4.0 + 0.1)
    assert sorted(decode["Values"]) == decode["Values"]  # buckets in order; equal latencies share one
    assert decode["Values"][0] == pytest.approx(0.1) and decode["Max"] == pytest.approx(4.0)
    assert dict(zip(decode["Values"], decode["Counts"], strict=True))[0.2] == 2


def test_an_interval_without_requests_still_reports_the_catalogue_but_no_empty_histograms():
    recorder = Recorder()
    quiet = recorder.snapshot(2.0, STATE).since(recorder.snapshot(1.0, STATE))
    document = emf_document(quiet, config.from_env({}), worker=1)
    assert emf_problems(document) == []
    names = {metric["Name"] for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert "DecodeLatency" not in names and "DecodeLatency" not in document
    assert document["Invocations2XX"] == 0 and document["CatalogAgeSeconds"] == 42.0


def test_namespace_and_dimensions_are_configurable_and_checked():
    settings = config.from_env({"METRICS_NAMESPACE": "Cards/Odds", "METRICS_DIMENSIONS": "EndpointName,Engine"})
    document = emf_document(interval(), settings, worker=1)
    assert emf_problems(document) == []
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Cards/Odds"
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["EndpointName", "Engine"]]
    for bad in ({"METRICS_NAMESPACE": "AWS/SageMaker"}, {"METRICS_DIMENSIONS": "EndpointName,Colour"}):
        with pytest.raises(config.SettingsError):
            config.from_env(bad)


def test_emf_is_off_unless_configured():
    assert config.from_env({}).metrics_emf is False
    assert config.from_env({"METRICS_EMF": "true"}).metrics_emf is True


def test_the_checker_finds_what_the_specification_forbids():
    document = emf_document(interval(), config.from_env({}), worker=1)
    broken = json.loads(json.dumps(document))
    broken["_aws"]["Timestamp"] = "yesterday"
    del broken["VariantName"]
    broken["Invocations2XX"] = "four"
    broken["DecodeLatency"]["Counts"].append(1)
    broken["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Requests"
    assert len(emf_problems(broken)) == 5
