"""Every setting of the container, read from the environment once and validated.

Each process (launcher, MMS worker, trainer) calls `load()`; the result is cached, so the
environment is parsed exactly once per process. Every variable is listed in docs/configuration.md.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from config.parsing import parse_boolean, whole_in
from config.s3 import parse_s3_object

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAGEMAKER_MODEL_DIR = Path("/opt/ml/model")
DEMO_MODEL_DIR = REPO_ROOT / "build" / "demo-model"
# MMS refuses ports >= 32767 at start ("Invalid port number").
MAX_MMS_PORT = 32766
JSON, CSV, JSONLINES = "application/json", "text/csv", "application/jsonlines"
MEDIA_TYPES = (JSON, CSV, JSONLINES)  # what requests and responses may be
LINE_MEDIA_TYPES = (CSV, JSONLINES)  # one record a line: what batch transform splits and reassembles by line
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BATCH_STRATEGIES = ("MULTI_RECORD", "SINGLE_RECORD")
PAIR_TREES, ONNXRUNTIME, SKLEARN = "pair-trees", "onnxruntime", "sklearn"
# PREDICTION_ENGINE's values; each engine falls back to the ones after it (handler/model/predictor.py).
PREDICTION_ENGINES = (PAIR_TREES, ONNXRUNTIME, SKLEARN)
# Properties every EMF line carries (handler/telemetry/emf.py), so any of them can be chosen as a CloudWatch dimension.
METRIC_DIMENSIONS = ("EndpointName", "VariantName", "ModelVersion", "Engine")
# SageMaker's MaxPayloadInMB: the default when neither the job nor the container says, and the largest it allows.
DEFAULT_PAYLOAD_MB = 6
MAX_PAYLOAD_MB = 100
# SageMaker refuses a transform job whose MaxConcurrentTransforms x MaxPayloadInMB exceeds this.
MAX_TOTAL_PAYLOAD_MB = 100
# The most MaxConcurrentTransforms this container advises and its tools accept.
MAX_CONCURRENT_TRANSFORMS = 256
# SageMaker waits 600 s for a batch transform invocation (InvocationsTimeoutInSeconds); a 100 MB MultiRecord
# request of short CSV lines takes minutes to score, so MMS must not give up after the real-time 60 s.
BATCH_TIMEOUT_SECONDS = 600
# The largest response MMS can carry: its worker protocol sends lengths as signed 32-bit integers. A 100 MB request
# of short CSV lines answered for ~40 cards is ~1.5 GB; MMS answers a larger-than-allowed response with a 500
# "Worker died." after all the scoring, so the handler checks this limit itself (413) and MMS gets the maximum.
MAX_RESPONSE_BYTES = 2**31 - 1


class SettingsError(ValueError):
    """An environment variable holds a value the container cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Every setting, each always given by from_env: the defaults are stated there (and in docs/configuration.md,
    which tests/config/test_configuration_doc.py checks against from_env)."""

    model_dir: Path
    port: int
    management_port: int
    workers: int
    timeout_seconds: int
    max_payload_mb: int
    log_level: str
    default_accept: str
    bind_host: str
    log_dir: Path
    drain_seconds: float
    prediction_engine: str
    # Card catalogue freshness (S3 side thread).
    card_variables_s3_uri: str | None
    refresh_interval_seconds: float
    refresh_jitter_fraction: float
    s3_connect_timeout_seconds: float
    s3_read_timeout_seconds: float
    s3_attempts: int
    startup_s3_timeout_seconds: float
    catalog_cache_dir: Path
    catalog_min_keep_fraction: float
    control_dir: Path
    # Batch transform.
    batch: bool
    batch_strategy: str
    max_concurrent_transforms: int | None
    default_cards: tuple[str, ...] | None
    default_reasons: int | None  # reason codes per card when a request asks for none (batch jobs)
    # Metrics: EMF lines on stdout (off unless METRICS_EMF), snapshots for GET /metrics (always).
    metrics_emf: bool
    metrics_namespace: str
    metrics_dimensions: tuple[str, ...]
    metrics_interval_seconds: float
    metrics_snapshot_seconds: float
    endpoint_name: str
    variant_name: str
    audit_log: bool  # one INFO line per request (handler/worker/service.py)
    audit_log_direct: bool  # the audit line past MMS's Java stdout relay (handler/worker/audit_output.py)
    audit_log_pipe: str | None  # set by the launcher: its output pipe, where workers write the audit line

    @property
    def max_payload_bytes(self) -> int:
        return self.max_payload_mb * 1024 * 1024

    @property
    def concurrent_transforms(self) -> int:
        """MaxConcurrentTransforms for /execution-parameters: as configured, else one per worker, lowered so that
        it times MaxPayloadInMB stays within SageMaker's 100 MB (an explicit value is checked in from_env)."""
        if self.max_concurrent_transforms is not None:
            return self.max_concurrent_transforms
        return max(1, min(self.workers, MAX_TOTAL_PAYLOAD_MB // self.max_payload_mb))


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of `names` that is set to a non-blank value, with its name (for messages)."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def _parsed(env: Mapping[str, str], names: tuple[str, ...], parse: Callable[[str], T], default: T, expected: str) -> T:
    found = _first(env, *names)
    if found is None:
        return default
    name, raw = found
    try:
        return parse(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is invalid: expected {expected}") from None


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:  # also rejects NaN
            raise ValueError
        return value

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.upper().replace("-", "_") if options[0].isupper() else raw.lower()
        if value not in options:
            raise ValueError
        return value

    return parse


def _boolean(raw: str) -> bool:
    value = parse_boolean(raw)
    if value is None:
        raise ValueError
    return value


def _card_list(raw: str) -> tuple[str, ...]:
    cards = tuple(card.strip() for card in raw.split(","))
    if not all(cards) or len(set(cards)) != len(cards):
        raise ValueError
    return cards


def _dimension_list(raw: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in raw.split(","))
    if not all(name in METRIC_DIMENSIONS for name in names) or len(set(names)) != len(names):
        raise ValueError
    return names


def _name(raw: str) -> str:
    """A CloudWatch namespace or dimension value: 1-255 printable characters."""
    if len(raw) > 255 or not raw.isprintable():
        raise ValueError
    return raw


def _namespace(raw: str) -> str:
    if _name(raw).startswith("AWS/"):  # reserved for AWS's own metrics
        raise ValueError
    return raw


def _s3_object_uri(raw: str) -> str:
    return parse_s3_object(raw).uri


def _ip_address(raw: str) -> str:
    return str(ipaddress.IPv4Address(raw))


def _default_model_dir(env: Mapping[str, str]) -> Path:
    """SageMaker's /opt/ml/model unless it is empty and a locally built demo model exists."""
    base = env.get("SAGEMAKER_BASE_DIR", "").strip()
    sagemaker_dir = Path(base) / "model" if base else SAGEMAKER_MODEL_DIR
    if not (sagemaker_dir / "model_metadata.json").exists() and (DEMO_MODEL_DIR / "model_metadata.json").exists():
        return DEMO_MODEL_DIR
    return sagemaker_dir


def from_env(env: Mapping[str, str]) -> Settings:
    """Build and validate the settings from an environment mapping."""
    port = _parsed(env, ("SAGEMAKER_BIND_TO_PORT",), whole_in(1, MAX_MMS_PORT), 8080, f"a port 1-{MAX_MMS_PORT}")
    management_port = _parsed(
        env,
        ("MANAGEMENT_PORT",),
        whole_in(1, MAX_MMS_PORT),
        8081 if port != 8081 else 8082,
        f"a port 1-{MAX_MMS_PORT}",
    )
    if management_port == port:
        raise SettingsError(f"MANAGEMENT_PORT={management_port} must differ from the inference port")
    model_dir_found = _first(env, "MODEL_DIR")
    batch = _parsed(env, ("SAGEMAKER_BATCH",), _boolean, False, "true or false")
    settings = Settings(
        # Absolute: MMS resolves a relative model path against its own model store ("/"), not our cwd.
        model_dir=(Path(model_dir_found[1]) if model_dir_found else _default_model_dir(env)).absolute(),
        port=port,
        management_port=management_port,
        workers=_parsed(
            env,
            ("SAGEMAKER_MODEL_SERVER_WORKERS", "MODEL_SERVER_WORKERS"),
            whole_in(1, 256),
            os.cpu_count() or 1,
            "a whole number of workers 1-256",
        ),
        timeout_seconds=_parsed(
            env,
            ("SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS", "MODEL_SERVER_TIMEOUT"),
            whole_in(1, 3600),
            BATCH_TIMEOUT_SECONDS if batch else 60,
            "whole seconds 1-3600",
        ),
        max_payload_mb=_parsed(
            env,
            ("SAGEMAKER_MAX_PAYLOAD_IN_MB",),
            whole_in(1, MAX_PAYLOAD_MB),
            DEFAULT_PAYLOAD_MB,
            f"whole MB 1-{MAX_PAYLOAD_MB}",
        ),
        log_level=_parsed(env, ("LOG_LEVEL",), _choice(LOG_LEVELS), "INFO", "one of " + ", ".join(LOG_LEVELS)),
        default_accept=_parsed(
            env,
            ("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",),
            _choice(MEDIA_TYPES),
            JSON,
            "one of " + ", ".join(MEDIA_TYPES),
        ),
        bind_host=_parsed(env, ("BIND_HOST",), _ip_address, "0.0.0.0", "an IPv4 address such as 0.0.0.0 or 127.0.0.1"),
        log_dir=Path(_parsed(env, ("LOG_DIR",), str, "/tmp/approval-odds/logs", "a directory")),
        prediction_engine=_parsed(
            env,
            ("PREDICTION_ENGINE",),
            _choice(PREDICTION_ENGINES),
            PAIR_TREES,
            "one of " + ", ".join(PREDICTION_ENGINES),
        ),
        drain_seconds=_parsed(env, ("SHUTDOWN_DRAIN_SECONDS",), _float_in(0, 25), 20.0, "seconds 0-25"),
        card_variables_s3_uri=_parsed(env, ("CARD_VARIABLES_S3_URI",), _s3_object_uri, None, "s3://bucket/key.csv"),
        refresh_interval_seconds=_parsed(
            env, ("CARD_VARIABLES_REFRESH_SECONDS",), _float_in(0.5, 86400), 300.0, "seconds 0.5-86400"
        ),
        refresh_jitter_fraction=_parsed(
            env, ("CARD_VARIABLES_REFRESH_JITTER",), _float_in(0, 0.5), 0.1, "a fraction 0-0.5"
        ),
        s3_connect_timeout_seconds=_parsed(
            env, ("CARD_VARIABLES_S3_CONNECT_TIMEOUT_SECONDS",), _float_in(0.1, 60), 2.0, "seconds 0.1-60"
        ),
        s3_read_timeout_seconds=_parsed(
            env, ("CARD_VARIABLES_S3_READ_TIMEOUT_SECONDS",), _float_in(0.1, 300), 5.0, "seconds 0.1-300"
        ),
        s3_attempts=_parsed(env, ("CARD_VARIABLES_S3_ATTEMPTS",), whole_in(1, 10), 3, "a whole number 1-10"),
        startup_s3_timeout_seconds=_parsed(
            env, ("CARD_VARIABLES_STARTUP_TIMEOUT_SECONDS",), _float_in(0.1, 30), 2.0, "seconds 0.1-30"
        ),
        catalog_cache_dir=Path(
            _parsed(env, ("CARD_VARIABLES_CACHE_DIR",), str, "/tmp/approval-odds/catalog-cache", "a directory")
        ),
        catalog_min_keep_fraction=_parsed(
            env, ("CARD_VARIABLES_MIN_KEEP_FRACTION",), _float_in(0, 1), 0.5, "a fraction 0-1"
        ),
        control_dir=Path(_parsed(env, ("CONTROL_DIR",), str, "/tmp/approval-odds/control", "a directory")),
        batch=batch,
        batch_strategy=_parsed(
            env,
            ("SAGEMAKER_BATCH_STRATEGY",),
            _choice(BATCH_STRATEGIES),
            "MULTI_RECORD",
            "MULTI_RECORD or SINGLE_RECORD",
        ),
        max_concurrent_transforms=_parsed(
            env,
            ("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS",),
            whole_in(1, MAX_CONCURRENT_TRANSFORMS),
            None,
            f"a whole number 1-{MAX_CONCURRENT_TRANSFORMS}",
        ),
        default_cards=_parsed(
            env, ("DEFAULT_CARDS",), _card_list, None, "comma-separated, distinct, non-empty card ids"
        ),
        default_reasons=_parsed(env, ("DEFAULT_REASONS",), whole_in(1, 8), None, "a whole number 1-8"),
        metrics_emf=_parsed(env, ("METRICS_EMF",), _boolean, False, "true or false"),
        metrics_namespace=_parsed(
            env, ("METRICS_NAMESPACE",), _namespace, "ApprovalOdds", "a CloudWatch namespace (1-255, not AWS/...)"
        ),
        metrics_dimensions=_parsed(
            env,
            ("METRICS_DIMENSIONS",),
            _dimension_list,
            ("EndpointName", "VariantName"),
            "distinct names, comma-separated, from " + ", ".join(METRIC_DIMENSIONS),
        ),
        metrics_interval_seconds=_parsed(
            env, ("METRICS_INTERVAL_SECONDS",), _float_in(1, 3600), 60.0, "seconds 1-3600"
        ),
        metrics_snapshot_seconds=_parsed(
            env, ("METRICS_SNAPSHOT_SECONDS",), _float_in(0.1, 300), 5.0, "seconds 0.1-300"
        ),
        endpoint_name=_parsed(env, ("METRICS_ENDPOINT_NAME",), _name, "local", "a name of at most 255 characters"),
        variant_name=_parsed(env, ("METRICS_VARIANT_NAME",), _name, "local", "a name of at most 255 characters"),
        audit_log=_parsed(env, ("AUDIT_LOG",), _boolean, True, "true or false"),
        audit_log_direct=_parsed(env, ("AUDIT_LOG_DIRECT",), _boolean, True, "true or false"),
        audit_log_pipe=_parsed(env, ("AUDIT_LOG_PIPE",), str, None, "a path"),
    )
    _check_transform_payload(settings)
    return settings


def _check_transform_payload(settings: Settings) -> None:
    """An explicit MaxConcurrentTransforms that SageMaker would refuse is a configuration error, not a hint to bend."""
    concurrency, payload = settings.max_concurrent_transforms, settings.max_payload_mb
    if concurrency is not None and concurrency * payload > MAX_TOTAL_PAYLOAD_MB:
        raise SettingsError(
            f"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS={concurrency} x SAGEMAKER_MAX_PAYLOAD_IN_MB={payload} is "
            f"{concurrency * payload} MB: SageMaker allows at most {MAX_TOTAL_PAYLOAD_MB} MB"
        )


@functools.cache
def load() -> Settings:
    """The settings of this process, parsed from os.environ on first use."""
    return from_env(os.environ)
