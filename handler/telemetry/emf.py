"""CloudWatch Embedded Metric Format: one JSON log line per worker per interval, turned into metrics by CloudWatch Logs.

Written here rather than with `aws-embedded-metrics` (3.5.0): that library flushes through asyncio coroutines and
probes its environment (Lambda, EC2 metadata, a CloudWatch agent socket) on first use, keeps each metric's raw values
(100 per document at most) and has no Values/Counts histograms; a synchronous worker needs none of that, and the
document below is the one the EMF specification defines:

    {"_aws": {"Timestamp": <epoch ms>, "CloudWatchMetrics": [{"Namespace", "Dimensions": [[...]],
                                                              "Metrics": [{"Name", "Unit"}, ...]}]},
     "<dimension>": "<value>", ..., "<metric>": <number> | {"Values", "Counts", "Max", "Min", "Count", "Sum"}}

Latency histograms carry one value per non-empty bucket (the mean of the observations in it) with its count, so Sum
and Count are exact and percentiles are accurate to a bucket; Min and Max are the lowest and highest of those means.
The line also has the time/level/logger/message members of every other log line (EMF ignores unknown members).
"""

from __future__ import annotations

import json
from typing import Any

from config.settings import Settings
from handler.telemetry.metrics import STAGES, Histogram, Snapshot
from handler.worker.logs import utc_timestamp

LOGGER = "handler.telemetry.metrics"
COUNT, MILLISECONDS, SECONDS = "Count", "Milliseconds", "Seconds"
STATUS_METRICS = {"2xx": "Invocations2XX", "4xx": "Invocations4XX", "5xx": "Invocations5XX"}
LATENCY_METRICS = {"decode": "DecodeLatency", "score": "ScoreLatency", "encode": "EncodeLatency"}


def emf_document(interval: Snapshot, settings: Settings, worker: int) -> dict[str, Any]:
    """The EMF document of one interval (`Snapshot.since` the previous one) of worker `worker`."""
    state = interval.state
    metrics: list[tuple[str, str, float | dict[str, Any]]] = [
        *((STATUS_METRICS[key], COUNT, value) for key, value in interval.invocations.items()),
        *(
            (LATENCY_METRICS[stage], MILLISECONDS, _distribution(interval.latency[stage]))
            for stage in STAGES
            if interval.latency[stage].count  # an empty histogram has no Min/Max: leave the metric out
        ),
        ("ApplicantsScored", COUNT, interval.applicants),
        ("PairsScored", COUNT, interval.pairs),
        ("CatalogAgeSeconds", SECONDS, round(state.catalog_age_seconds, 3)),
        ("CatalogRefreshSuccesses", COUNT, state.refresh_successes),
        ("CatalogRefreshFailures", COUNT, state.refresh_failures),
        ("CatalogRefreshRejections", COUNT, state.refresh_rejections),
    ]
    if state.seconds_since_refresh_success is not None:
        metrics.append(("SecondsSinceCatalogRefresh", SECONDS, round(state.seconds_since_refresh_success, 3)))
    properties = {
        "EndpointName": settings.endpoint_name,
        "VariantName": settings.variant_name,
        "ModelVersion": state.model_version,
        "Engine": state.engine,
        "CatalogVersion": state.catalog_version,
        "Worker": worker,
    }
    return {
        "time": utc_timestamp(interval.taken_at),
        "level": "INFO",
        "logger": LOGGER,
        "message": "metrics",
        "_aws": {
            "Timestamp": int(interval.taken_at * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": settings.metrics_namespace,
                    "Dimensions": [list(settings.metrics_dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in metrics],
                }
            ],
        },
        **properties,
        **{name: value for name, _, value in metrics},
    }


def emf_line(interval: Snapshot, settings: Settings, worker: int) -> str:
    return json.dumps(emf_document(interval, settings, worker), separators=(",", ":"))


def _distribution(histogram: Histogram) -> dict[str, Any]:
    filled = [(total / count, count) for count, total in zip(histogram.counts, histogram.sums, strict=True) if count]
    values = [round(value, 4) for value, _ in filled]
    return {
        "Values": values,
        "Counts": [count for _, count in filled],
        "Max": max(values),
        "Min": min(values),
        "Count": histogram.count,
        "Sum": round(histogram.total, 4),
    }
