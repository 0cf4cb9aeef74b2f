"""Keeps a worker's card catalogue fresh from S3: one daemon thread per MMS worker process.

Start-up serves the newer of the last-good cache and the bundled catalogue at once, then gives S3 one short try.
After that the thread polls S3 with a conditional GET every interval (with jitter, so workers spread out), and
about once a second checks the control directory for a `GET /updateccdata` request. A new catalogue is parsed,
validated, checked against the shrink guard, swapped in by one reference assignment and written to the cache.
Failures are logged without data, counted and retried with backoff; nothing here raises into a request.
"""

from __future__ import annotations

import enum
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from retrying import Retrying

from config.settings import Settings
from handler.model.catalog import CATALOG_FILE, Catalog, parse_catalog
from handler.model.errors import CatalogError
from handler.model.metadata import ModelMetadata
from handler.refresh.catalog_cache import CatalogCache
from handler.refresh.catalog_store import CatalogStore, check_shrink
from handler.refresh.refresh_control import ControlChannel
from handler.refresh.s3_source import ClientLimits, S3Error, S3Object, S3Source

CONTROL_POLL_SECONDS = 1.0
# A /updateccdata refresh must finish inside the plugin's 10 s wait, poll delay included.
CONTROL_REFRESH_TIMEOUT_SECONDS = 7.0
# Whole-fetch retries on top of botocore's own attempts: they also cover body read errors, which botocore cannot.
RETRY_ATTEMPTS = 3
RETRY_BACKOFF_MS = 250  # waits 0.5 s, 1 s, ... (retrying doubles per attempt)
RETRY_BACKOFF_MAX_MS = 4000
# After a failed poll, try again sooner than a full interval so a recovered S3 is noticed quickly.
RETRY_AFTER_FAILURE_SECONDS = 30.0
STOP_JOIN_SECONDS = 15.0
STARTUP_WAIT_FACTOR = 2.0

log = logging.getLogger(__name__)


class _RetryLog:
    """retrying 1.3.7 logs every failed attempt, traceback included, through the deprecated Logger.warn; we log
    one line per failed refresh ourselves, so its attempts go to DEBUG."""

    def warn(self, attempt: object) -> None:
        log.debug("S3 fetch attempt failed; retrying with backoff")

    def info(self, message: str) -> None:
        log.debug(message)


class Outcome(enum.StrEnum):
    UPDATED = "updated"  # a new catalogue is being served
    UNCHANGED = "unchanged"  # S3 answered 304, or the same content again
    REJECTED = "rejected"  # S3 holds a catalogue that failed validation; the old one is kept
    FAILED = "failed"  # S3 could not be read
    BUSY = "busy"  # another refresh of this worker held on past the timeout
    DISABLED = "disabled"  # no CARD_VARIABLES_S3_URI: the bundled catalogue is all there is


@dataclass(frozen=True)
class RefreshResult:
    status: Outcome
    catalog_version: str
    cards: int
    source: str
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": str(self.status)}


@dataclass
class RefreshStats:
    """Counters of one worker's refresher (a copy; safe to log or serialise)."""

    successes: int = 0  # S3 answered usefully: updated or unchanged
    updates: int = 0
    not_modified: int = 0
    failures: int = 0  # S3 unreachable or erroring (after retries)
    rejected: int = 0  # catalogues refused by validation or the shrink guard
    last_success_at: float | None = None  # epoch seconds
    last_error: str | None = None
    catalog_version: str = ""
    catalog_source: str = ""
    catalog_age_seconds: float = 0.0  # since the served catalogue was fetched or loaded

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Refresher:
    def __init__(
        self,
        settings: Settings,
        metadata: ModelMetadata,
        store: CatalogStore,
        source: S3Source | None,
        cache: CatalogCache | None,
        control: ControlChannel | None,
    ) -> None:
        self._settings = settings
        self._metadata = metadata
        self._store = store
        self._source = source
        self._cache = cache
        self._control = control
        self._lock = threading.Lock()  # one fetch at a time: side thread vs. refresh_now from a request
        self._stop = threading.Event()
        self._first_attempt = threading.Event()
        self._thread: threading.Thread | None = None
        self._stats = RefreshStats()
        self._etag = store.current.etag  # If-None-Match: the last object S3 gave us, good or rejected

    # --- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="catalog-refresher", daemon=True)
        self._thread.start()

    def wait_first_attempt(self, timeout: float) -> bool:
        """True once the start-up fetch has finished (succeeded or not); False if still running after `timeout`."""
        return self._first_attempt.wait(timeout)

    def stop(self, timeout: float = STOP_JOIN_SECONDS) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._control is not None:
            self._control.unregister()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- public API ------------------------------------------------------------------------------------------

    def refresh_now(self, timeout: float | None = None) -> RefreshResult:
        """Refresh this worker now (before a request is scored); never raises.

        Bounded by about `timeout` seconds (default: one S3 connect plus one read timeout): no new attempt starts
        after it, and each attempt is one S3 call with timeouts no longer than it.
        """
        if timeout is None:
            timeout = self._settings.s3_connect_timeout_seconds + self._settings.s3_read_timeout_seconds
        if self._source is None:
            return self._result(Outcome.DISABLED)
        if not self._lock.acquire(timeout=timeout):
            return self._result(Outcome.BUSY, "another refresh is still running")
        try:
            return self._refresh_locked(timeout=timeout, attempts=RETRY_ATTEMPTS, give_up_after=timeout)
        finally:
            self._lock.release()

    def stats(self) -> RefreshStats:
        current = self._store.current
        copy = RefreshStats(**asdict(self._stats))
        copy.catalog_version = current.version
        copy.catalog_source = current.source
        copy.catalog_age_seconds = max(0.0, time.time() - current.fetched_at)
        return copy

    # --- the side thread -------------------------------------------------------------------------------------

    def _run(self) -> None:
        self._register()
        try:
            ok = self._guarded(self._startup_refresh)
        finally:
            self._first_attempt.set()
        # Without an S3 source no poll is ever due: wait on the control channel only (a past due time would spin).
        next_due = time.monotonic() + self._delay(ok) if self._source is not None else math.inf
        while not self._stop.wait(min(CONTROL_POLL_SECONDS, max(0.0, next_due - time.monotonic()))):
            self._guarded(self._answer_control_request)
            if self._source is not None and time.monotonic() >= next_due:
                ok = self._guarded(lambda: self._periodic_refresh().status is not Outcome.FAILED)
                next_due = time.monotonic() + self._delay(ok)
                # One line per poll (every few minutes): the counters and the catalogue's age, for log metrics.
                log.info("card catalogue refresh counters", extra=self.stats().as_dict())

    def _guarded(self, step: Callable[[], Any]) -> Any:
        """Run one step of the loop; whatever it raises is logged and counted, and the thread carries on."""
        try:
            return step()
        except Exception as exc:
            self._stats.failures += 1
            self._stats.last_error = f"internal error: {type(exc).__name__}"
            log.exception("card catalogue refresher step failed; the thread carries on")
            return False

    def _delay(self, last_ok: bool) -> float:
        interval = self._settings.refresh_interval_seconds
        jitter = self._settings.refresh_jitter_fraction
        delay = interval * random.uniform(1 - jitter, 1 + jitter)
        return delay if last_ok else min(delay, RETRY_AFTER_FAILURE_SECONDS)

    def _register(self) -> None:
        if self._control is None:
            return
        try:
            self._control.register()
        except OSError as exc:
            log.warning(
                "cannot use control directory %s (%s): /updateccdata will not reach this worker",
                self._control.directory,
                exc.strerror or type(exc).__name__,
            )
            self._control = None

    def _startup_refresh(self) -> bool:
        if self._source is None:
            return True
        with self._lock:
            # One short try: S3 trouble at start must not hold the worker (and /ping) back.
            result = self._refresh_locked(timeout=self._settings.startup_s3_timeout_seconds, attempts=1)
        if result.status is Outcome.FAILED:
            log.warning(
                "S3 not reachable at start (%s); serving the %s catalogue %s until it is",
                result.error,
                result.source,
                result.catalog_version,
            )
        return result.status is not Outcome.FAILED

    def _periodic_refresh(self) -> RefreshResult:
        with self._lock:
            return self._refresh_locked(timeout=None, attempts=RETRY_ATTEMPTS)

    def _answer_control_request(self) -> None:
        if self._control is None:
            return
        request = self._control.poll()
        if request is None:
            return
        result = self.refresh_now(CONTROL_REFRESH_TIMEOUT_SECONDS)
        log.info("refresh requested through /updateccdata: %s, catalogue %s", result.status, result.catalog_version)
        self._control.acknowledge(request, result.as_dict())

    # --- one refresh (caller holds self._lock) ---------------------------------------------------------------

    def _refresh_locked(
        self, *, timeout: float | None, attempts: int, give_up_after: float | None = None
    ) -> RefreshResult:
        """Fetch (retrying transient errors with backoff), validate and swap. `timeout` bounds each S3 call."""
        assert self._source is not None
        source = self._source
        retrying = Retrying(
            stop_max_attempt_number=attempts,
            stop_max_delay=None if give_up_after is None else give_up_after * 1000,
            wait_exponential_multiplier=RETRY_BACKOFF_MS,
            wait_exponential_max=RETRY_BACKOFF_MAX_MS,
            retry_on_exception=lambda exc: isinstance(exc, S3Error) and exc.transient,
            logger=_RetryLog(),
        )
        try:
            fetched = retrying.call(source.fetch, self._etag, timeout=timeout)
        except S3Error as exc:
            self._stats.failures += 1
            self._stats.last_error = exc.summary
            log.warning(
                "card catalogue refresh from %s failed: %s; still serving %s",
                source.uri,
                exc.summary,
                self._store.current.version,
            )
            return self._result(Outcome.FAILED, exc.summary)
        if fetched is None:
            self._succeeded()
            self._stats.not_modified += 1
            log.debug("card catalogue %s not modified in S3", self._store.current.version)
            return self._result(Outcome.UNCHANGED)
        return self._accept(fetched)

    def _accept(self, fetched: S3Object) -> RefreshResult:
        self._etag = fetched.etag  # a rejected object is not re-read until S3 holds a different one
        current = self._store.current
        fetched_at = time.time()
        try:
            candidate = parse_catalog(
                fetched.data, self._metadata, source="s3", etag=fetched.etag, fetched_at=fetched_at
            )
            check_shrink(current, candidate, self._settings.catalog_min_keep_fraction)
        except CatalogError as exc:
            self._stats.rejected += 1
            self._stats.last_error = str(exc)
            log.error(
                "card catalogue in %s (etag %s) rejected: %s; still serving %s",
                self._source.uri if self._source else "?",
                fetched.etag,
                exc,
                current.version,
            )
            return self._result(Outcome.REJECTED, str(exc))
        # Counters first, then the swap: whoever sees the new catalogue also sees it counted.
        self._succeeded()
        changed = candidate.version != current.version
        if changed:
            self._stats.updates += 1
        else:
            self._stats.not_modified += 1
        change = self._store.swap(candidate)
        if self._cache is not None:
            self._cache.save(fetched.data, fetched.etag, fetched_at)
        if not changed:
            return self._result(Outcome.UNCHANGED)
        log.info(change.summary())
        return self._result(Outcome.UPDATED)

    def _succeeded(self) -> None:
        self._stats.successes += 1
        self._stats.last_success_at = time.time()

    def _result(self, status: Outcome, error: str | None = None) -> RefreshResult:
        current = self._store.current
        return RefreshResult(status, current.version, len(current), current.source, error)


def initial_catalog(
    bundled: Catalog, bundled_as_of: float, cache: CatalogCache | None, metadata: ModelMetadata
) -> Catalog:
    """The newer of the last-good cache (by when it was fetched) and the bundled catalogue (by file time)."""
    cached = cache.load() if cache is not None else None
    if cached is None or cached.fetched_at <= bundled_as_of:
        return bundled
    try:
        return parse_catalog(cached.data, metadata, source="cache", etag=cached.etag, fetched_at=cached.fetched_at)
    except CatalogError as exc:  # e.g. the model now needs a column the cached file lacks
        log.warning("ignoring the cached card catalogue: %s", exc)
        return bundled


def start_refresher(
    settings: Settings, metadata: ModelMetadata, store: CatalogStore, bundled_catalog: Catalog
) -> Refresher:
    """Serve the best local catalogue now, start the side thread, and wait briefly for its first S3 fetch.

    Called once per MMS worker (in model_fn). Returns within about startup_s3_timeout_seconds even if S3 hangs:
    the thread keeps going and the worker serves what it has meanwhile.
    """
    uri = settings.card_variables_s3_uri
    cache = CatalogCache(settings.catalog_cache_dir, uri) if uri else None
    try:
        bundled_as_of = (settings.model_dir / CATALOG_FILE).stat().st_mtime
    except OSError:
        bundled_as_of = bundled_catalog.fetched_at
    first = initial_catalog(bundled_catalog, bundled_as_of, cache, metadata)
    if first is not store.current:
        store.replace(first)
    log.info(
        "serving the %s card catalogue %s (%d cards); S3 source: %s",
        first.source,
        first.version,
        len(first),
        uri or "none (bundled catalogue only)",
    )
    limits = ClientLimits(settings.s3_connect_timeout_seconds, settings.s3_read_timeout_seconds, settings.s3_attempts)
    refresher = Refresher(
        settings,
        metadata,
        store,
        source=S3Source(uri, limits) if uri else None,
        cache=cache,
        control=ControlChannel(settings.control_dir),
    )
    refresher.start()
    # The start-up attempt's connect and read timeouts are each at most the start-up timeout.
    startup_wait = STARTUP_WAIT_FACTOR * settings.startup_s3_timeout_seconds
    if not refresher.wait_first_attempt(startup_wait):
        log.warning(
            "S3 did not answer within %.1f s at start; serving the %s catalogue meanwhile", startup_wait, first.source
        )
    return refresher
