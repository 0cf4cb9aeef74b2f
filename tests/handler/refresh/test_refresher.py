"""The catalogue refresher against a real S3 server (SeaweedFS on loopback) and a TCP fault proxy.

Contract: every worker picks up a new catalogue within one interval, never serves a broken one, and keeps
serving (and its thread keeps running) whatever S3 does.
"""

import json
import logging
import threading
import time

import pytest

from config.settings import from_env
from handler.model.catalog import parse_catalog
from handler.refresh import refresher as refresher_module
from handler.refresh.catalog_store import CatalogStore
from handler.refresh.refresh_control import ACKS_DIR, REQUEST_FILE, WORKERS_DIR
from handler.refresh.refresher import Outcome, start_refresher
from tests.s3_fixtures import Fault
from tests.support.artifacts import CATALOG_HEADER, catalog_csv, catalog_row, metadata, write_artifact
from tests.support.waiting import HANG_GUARD_SECONDS

pytestmark = pytest.mark.s3

META = metadata()
KEY = "config/card_variables.csv"
INTERVAL = 0.5  # the shortest interval Settings allows
# Bound on any wait below, a hang guard only (most conditions hold in well under a second, a faulty S3 cycle in ~8 s
# on a quiet machine): wait_for returns as soon as the condition holds, so a busy CI machine only waits longer.
WAIT = HANG_GUARD_SECONDS


def wait_for(condition, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def csv(*rows: str) -> bytes:
    return ("\n".join([CATALOG_HEADER, *rows]) + "\n").encode()


@pytest.fixture
def model_dir(tmp_path):
    return write_artifact(tmp_path / "model", n_cards=6)


@pytest.fixture
def launch(tmp_path, model_dir, s3_bucket, s3_env):
    """start_refresher as a worker's model_fn calls it, with short intervals and timeouts; stopped afterwards."""
    started = []

    def launch(uri="default", **overrides):
        uri = s3_bucket.uri(KEY) if uri == "default" else uri
        env = {
            "MODEL_DIR": str(model_dir),
            "CARD_VARIABLES_REFRESH_SECONDS": str(INTERVAL),
            "CARD_VARIABLES_REFRESH_JITTER": "0",
            "CARD_VARIABLES_S3_CONNECT_TIMEOUT_SECONDS": "0.3",
            "CARD_VARIABLES_S3_READ_TIMEOUT_SECONDS": "0.5",
            "CARD_VARIABLES_S3_ATTEMPTS": "2",
            "CARD_VARIABLES_STARTUP_TIMEOUT_SECONDS": "1",
            "CARD_VARIABLES_CACHE_DIR": str(tmp_path / "cache"),
            "CONTROL_DIR": str(tmp_path / "control"),
            **({"CARD_VARIABLES_S3_URI": uri} if uri else {}),
            **overrides,
        }
        settings = from_env(env)
        bundled = parse_catalog((model_dir / "card_variables.csv").read_bytes(), META, source="bundled")
        store = CatalogStore(bundled)
        refresher = start_refresher(settings, META, store, bundled)
        started.append(refresher)
        return refresher, store

    yield launch
    for refresher in started:
        refresher.stop()


@pytest.fixture
def parses(monkeypatch):
    """Counts the catalogues the refresher parses (a 304 must parse nothing)."""
    calls = []
    real = refresher_module.parse_catalog

    def counting(data, *args, **kwargs):
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(refresher_module, "parse_catalog", counting)
    return calls


# --- freshness -------------------------------------------------------------------------------------------------


def test_the_s3_catalogue_is_served_as_soon_as_start_up_returns(launch, s3_bucket):
    etag = s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch()
    assert (store.current.source, store.current.etag, len(store.current)) == ("s3", etag, 8)
    stats = refresher.stats()
    assert (stats.updates, stats.failures, stats.catalog_version) == (1, 0, store.current.version)


def test_a_new_catalogue_in_s3_is_served_within_one_interval(launch, s3_bucket):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch()
    before = refresher.stats()
    new_etag = s3_bucket.put(KEY, catalog_csv(9))
    seen = []
    assert wait_for(lambda: seen.append(refresher.stats()) or seen[-1].updates == 2)
    assert store.current.etag == new_etag and len(store.current) == 9
    # One interval counted in polls, not seconds (a busy machine stretches seconds): the poll under way during the
    # upload may still see the old object; the next one takes the new.
    assert seen[-1].not_modified <= before.not_modified + 1 and seen[-1].failures == 0


def test_an_unchanged_catalogue_is_not_parsed_again(launch, s3_bucket, parses):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch()
    served = store.current
    assert wait_for(lambda: refresher.stats().not_modified >= 3)
    assert len(parses) == 1  # only the first download; every later poll was a 304
    assert store.current is served


def test_s3_holding_the_bundled_catalogue_is_not_a_change(launch, s3_bucket, model_dir):
    etag = s3_bucket.put(KEY, (model_dir / "card_variables.csv").read_bytes())
    refresher, store = launch()
    assert (store.current.source, store.current.etag) == ("s3", etag)  # now known to match S3: cacheable
    stats = refresher.stats()
    assert (stats.updates, stats.not_modified, stats.successes) == (0, 1, 1)


# --- validation ------------------------------------------------------------------------------------------------

CORRUPT = {
    "missing column": csv(*(catalog_row(i) for i in range(6))).replace(b",annual_fee", b""),
    "bad type": csv(catalog_row(0), catalog_row(1).replace("Card 1,yes,10", "Card 1,yes,ten"), catalog_row(2)),
    "duplicate id": csv(catalog_row(0), catalog_row(1), catalog_row(2, card_id="card-00")),
    "empty": b"",
    "binary garbage": bytes(range(256)) * 8,
    "truncated": catalog_csv(8)[:-9],
    "no active card": catalog_csv(6, inactive=tuple(range(6))),
    "shrink guard": catalog_csv(2),  # 2 of 8 cards, under the default min keep fraction 0.5
}


@pytest.mark.parametrize("problem", CORRUPT)
def test_a_corrupt_catalogue_is_rejected_counted_and_the_old_one_kept(launch, s3_bucket, parses, problem):
    good = s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch(CARD_VARIABLES_REFRESH_SECONDS="3600")
    served = store.current
    assert served.etag == good
    s3_bucket.put(KEY, CORRUPT[problem])

    result = refresher.refresh_now(2.0)
    assert result.status is Outcome.REJECTED
    assert result.catalog_version == served.version and store.current is served
    stats = refresher.stats()
    assert stats.rejected == 1 and stats.last_error == result.error
    # The rejected object is remembered: polling again costs a 304, not another parse and another error.
    parsed = len(parses)
    assert refresher.refresh_now(2.0).status is Outcome.UNCHANGED
    assert len(parses) == parsed and refresher.stats().rejected == 1
    # Once the business fixes the file, it is served.
    fixed = s3_bucket.put(KEY, catalog_csv(9))
    assert refresher.refresh_now(2.0).status is Outcome.UPDATED
    assert store.current.etag == fixed


def test_rejection_errors_are_logged_without_the_catalogue_contents(launch, s3_bucket, caplog):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, _ = launch(CARD_VARIABLES_REFRESH_SECONDS="3600")
    s3_bucket.put(KEY, csv(catalog_row(0), catalog_row(1).replace("Card 1", "Card 1,EXTRA-VALUE")))
    assert refresher.refresh_now(2.0).status is Outcome.REJECTED
    assert "line 3" in caplog.text and "EXTRA-VALUE" not in caplog.text


# --- faults ----------------------------------------------------------------------------------------------------

FAULTS = {
    "latency over the timeout": {"fault": Fault.LATENCY, "latency": 1.5},
    "reset on accept": {"fault": Fault.RESET_ON_ACCEPT},
    "reset mid-body": {"fault": Fault.RESET_MID_BODY},
    "503": {"fault": Fault.SERVICE_UNAVAILABLE},
}


@pytest.mark.parametrize("name", [*FAULTS, "refused"])
def test_the_thread_survives_s3_faults_and_recovers_when_s3_does(launch, s3_bucket, fault_proxy, name):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch()
    served = store.current
    if name == "refused":
        fault_proxy.refuse()
    else:
        fault_proxy.set(**FAULTS[name])
    s3_bucket.put(KEY, catalog_csv(9))

    assert wait_for(lambda: refresher.stats().failures >= 1)
    assert refresher.alive and store.current is served
    # A request asking for a refresh meanwhile is answered, not failed (BUSY while the thread's own try runs).
    assert refresher.refresh_now(1.0).status in (Outcome.FAILED, Outcome.BUSY)

    if name == "refused":
        fault_proxy.listen()
    fault_proxy.set(Fault.NONE)
    assert wait_for(lambda: len(store.current) == 9, timeout=2 * INTERVAL + WAIT)
    assert refresher.alive and refresher.stats().updates == 2


def test_a_body_read_error_is_retried_by_the_refresher(launch, s3_bucket, fault_proxy):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch(CARD_VARIABLES_REFRESH_SECONDS="3600")
    s3_bucket.put(KEY, catalog_csv(9))
    fault_proxy.set(Fault.RESET_MID_BODY, times=1)
    assert refresher.refresh_now(5.0).status is Outcome.UPDATED
    assert len(store.current) == 9
    assert fault_proxy.accepted >= 2  # the cut connection, then the retry that read the whole body


def test_an_unexpected_error_is_logged_and_the_thread_carries_on(launch, s3_bucket, monkeypatch):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch()
    failures = refresher.stats().failures
    calls = []
    original = refresher_module.S3Source.fetch

    def broken_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(refresher_module.S3Source, "fetch", broken_once)
    assert wait_for(lambda: refresher.stats().failures > failures)
    etag = s3_bucket.put(KEY, catalog_csv(9))
    assert wait_for(lambda: store.current.etag == etag)
    assert refresher.alive


# --- start-up and the last-good cache --------------------------------------------------------------------------


def test_s3_down_at_start_serves_the_bundled_catalogue(launch, s3_bucket, fault_proxy):
    s3_bucket.put(KEY, catalog_csv(8))
    fault_proxy.refuse()
    refresher, store = launch()
    assert store.current.source == "bundled" and len(store.current) == 6
    assert refresher.stats().failures == 1


def test_a_hanging_s3_at_start_gets_only_the_short_start_up_timeout(launch, s3_bucket, fault_proxy):
    s3_bucket.put(KEY, catalog_csv(8))
    fault_proxy.set(Fault.LATENCY, latency=2.0)
    # The regular read timeout (5 s) would outwait the 2 s delay; the 1 s start-up timeout does not.
    refresher, store = launch(CARD_VARIABLES_S3_READ_TIMEOUT_SECONDS="5", CARD_VARIABLES_REFRESH_SECONDS="3600")
    assert store.current.source == "bundled"
    # On a busy machine start-up can stop waiting before the attempt has ended: wait for its outcome, not a time.
    assert wait_for(lambda: refresher.stats().failures + refresher.stats().successes >= 1)
    stats = refresher.stats()
    assert (stats.failures, stats.successes) == (1, 0) and "ReadTimeoutError" in stats.last_error


def test_a_restart_with_s3_down_serves_the_last_good_copy_from_the_cache(launch, s3_bucket, fault_proxy):
    etag = s3_bucket.put(KEY, catalog_csv(8))
    first, first_store = launch()
    assert first_store.current.etag == etag
    first.stop()

    fault_proxy.refuse()
    _, store = launch()
    assert (store.current.source, store.current.etag) == ("cache", etag)
    assert store.current.version == first_store.current.version


def test_a_restart_with_s3_up_and_unchanged_costs_a_304(launch, s3_bucket, parses):
    etag = s3_bucket.put(KEY, catalog_csv(8))
    launch()[0].stop()
    parsed = len(parses)
    refresher, store = launch()
    assert (store.current.source, store.current.etag) == ("cache", etag)
    assert len(parses) == parsed + 1  # the cache file; S3 answered 304
    assert refresher.stats().not_modified == 1


def test_a_bundled_catalogue_newer_than_the_cache_wins(launch, s3_bucket, fault_proxy, model_dir):
    s3_bucket.put(KEY, catalog_csv(8))
    launch()[0].stop()
    (model_dir / "card_variables.csv").write_bytes(catalog_csv(7))  # a model deployed after the last fetch
    fault_proxy.refuse()
    _, store = launch()
    assert (store.current.source, len(store.current)) == ("bundled", 7)


def test_without_an_s3_uri_the_bundled_catalogue_is_all_there_is(launch):
    refresher, store = launch(uri=None)
    assert store.current.source == "bundled"
    assert refresher.refresh_now(1.0).status is Outcome.DISABLED
    assert refresher.alive


# --- concurrency -----------------------------------------------------------------------------------------------


def test_readers_during_rapid_swaps_always_see_one_whole_catalogue(launch, s3_bucket):
    versions = {}
    for n_cards in (6, 9):
        data = catalog_csv(n_cards)
        versions[parse_catalog(data, META, source="x").version] = (data, n_cards)
    s3_bucket.put(KEY, catalog_csv(9))
    refresher, store = launch(CARD_VARIABLES_REFRESH_SECONDS="3600")
    problems, seen, stop = [], set(), threading.Event()

    def read():
        while not stop.is_set():
            catalog = store.current  # one read of the reference, as a request does
            n_cards = versions[catalog.version][1]
            if not (len(catalog.card_ids) == n_cards == catalog.features.shape[0] == len(catalog.active)):
                problems.append(catalog.version)
            seen.add(catalog.version)
            time.sleep(0)  # yield the GIL: busy readers would otherwise starve the refresher

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for swap in range(40):
            s3_bucket.put(KEY, list(versions.values())[swap % 2][0])
            assert refresher.refresh_now(2.0).status is Outcome.UPDATED
    finally:
        stop.set()
        for reader in readers:
            reader.join(5)
    assert not problems and seen == set(versions)
    assert refresher.stats().updates == 1 + 40


# --- on-demand refresh through the control directory (GET /updateccdata) ---------------------------------------


def test_a_control_request_makes_the_worker_refresh_and_acknowledge(launch, s3_bucket, tmp_path):
    s3_bucket.put(KEY, catalog_csv(8))
    refresher, store = launch(CARD_VARIABLES_REFRESH_SECONDS="3600")
    control = tmp_path / "control"
    pid_file = next((control / WORKERS_DIR).iterdir())
    etag = s3_bucket.put(KEY, catalog_csv(9))
    (control / REQUEST_FILE).write_text(str(time.time_ns()))

    ack_file = control / ACKS_DIR / pid_file.name
    assert wait_for(ack_file.exists)
    ack = json.loads(ack_file.read_text())
    assert ack["status"] == "updated" and ack["catalog_version"] == store.current.version
    assert ack["request_id"] == int((control / REQUEST_FILE).read_text()) and store.current.etag == etag
    refresher.stop()
    assert not pid_file.exists()


def test_a_worker_without_s3_still_answers_control_requests(launch, tmp_path):
    launch(uri=None)
    control = tmp_path / "control"
    (control / REQUEST_FILE).write_text(str(time.time_ns()))
    assert wait_for(lambda: any((control / ACKS_DIR).glob("*.json")))
    ack = json.loads(next((control / ACKS_DIR).glob("*.json")).read_text())
    assert ack["status"] == "disabled" and ack["source"] == "bundled"


def test_every_poll_logs_the_counters_and_the_catalogue_age(launch, s3_bucket, caplog):
    caplog.set_level(logging.INFO, logger="handler.refresh.refresher")
    s3_bucket.put(KEY, catalog_csv(8))
    _, store = launch()
    assert wait_for(lambda: any(r.getMessage() == "card catalogue refresh counters" for r in caplog.records))
    line = next(r for r in caplog.records if r.getMessage() == "card catalogue refresh counters")
    assert line.catalog_version == store.current.version
    assert line.successes >= 1 and line.failures == 0
    assert line.catalog_age_seconds >= 0
