"""One worker's cumulative figures in the Prometheus text exposition format (version 0.0.4), every sample labelled
with the worker's pid. The `GET /metrics` plugin (plugins/metrics) merges the workers' expositions family by
family, so each family here must be one `# HELP`, one `# TYPE` and then its samples."""

from __future__ import annotations

from collections.abc import Iterator

from handler.telemetry.metrics import LATENCY_BOUNDS_MS, STAGES, Snapshot

PREFIX = "approval_odds_"


def exposition(snapshot: Snapshot, worker: int) -> str:
    return "".join(line + "\n" for line in _lines(snapshot, {"worker": str(worker)}))


def _lines(snapshot: Snapshot, worker: dict[str, str]) -> Iterator[str]:
    state = snapshot.state
    yield from _family("invocations_total", "counter", "requests answered by the handler, by HTTP status class")
    for status_class, count in snapshot.invocations.items():
        yield _sample("invocations_total", {**worker, "status_class": status_class}, count)

    yield from _family("stage_latency_seconds", "histogram", "time per request stage: decode, score, encode")
    for stage in STAGES:
        histogram = snapshot.latency[stage]
        labels = {**worker, "stage": stage}
        cumulative = 0
        for bound, count in zip((*LATENCY_BOUNDS_MS, None), histogram.counts, strict=True):
            cumulative += count
            le = "+Inf" if bound is None else repr(bound / 1000)
            yield _sample("stage_latency_seconds_bucket", {**labels, "le": le}, cumulative)
        yield _sample("stage_latency_seconds_sum", labels, histogram.total / 1000)
        yield _sample("stage_latency_seconds_count", labels, histogram.count)

    yield from _family("applicants_scored_total", "counter", "applicants scored")
    yield _sample("applicants_scored_total", worker, snapshot.applicants)
    yield from _family("pairs_scored_total", "counter", "applicant x card pairs scored")
    yield _sample("pairs_scored_total", worker, snapshot.pairs)

    yield from _family("catalog_refreshes_total", "counter", "card catalogue refreshes from S3, by outcome")
    for outcome, count in (
        ("success", state.refresh_successes),
        ("failure", state.refresh_failures),
        ("rejection", state.refresh_rejections),
    ):
        yield _sample("catalog_refreshes_total", {**worker, "outcome": outcome}, count)

    yield from _family("catalog_age_seconds", "gauge", "seconds since the served card catalogue was fetched or loaded")
    yield _sample("catalog_age_seconds", worker, round(state.catalog_age_seconds, 3))
    if state.seconds_since_refresh_success is not None:
        yield from _family(
            "seconds_since_catalog_refresh", "gauge", "seconds since S3 last answered a catalogue poll usefully"
        )
        yield _sample("seconds_since_catalog_refresh", worker, round(state.seconds_since_refresh_success, 3))

    yield from _family("info", "gauge", "always 1: what the worker serves, in its labels")
    info = {
        **worker,
        "engine": state.engine,
        "model_version": state.model_version,
        "catalog_version": state.catalog_version,
    }
    yield _sample("info", info, 1)


def _family(name: str, kind: str, help_text: str) -> Iterator[str]:
    # The 0.0.4 text format names a counter's family with its _total suffix (prometheus_client's parser insists).
    yield f"# HELP {PREFIX}{name} {help_text}"
    yield f"# TYPE {PREFIX}{name} {kind}"


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    rendered = ",".join(f'{key}="{_escape(str(text))}"' for key, text in labels.items())
    return f"{PREFIX}{name}{{{rendered}}} {value}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
