"""S3Source against a real S3 server: conditional GET, and every failure as a safe-to-log, classified S3Error."""

import pytest

from handler.refresh import s3_source
from handler.refresh.s3_source import ClientLimits, S3Error, S3Source
from tests.s3_fixtures import Fault

pytestmark = pytest.mark.s3

KEY = "catalogues/card_variables.csv"
FAST = ClientLimits(connect_timeout=0.5, read_timeout=0.5, attempts=2)


def source(bucket, key=KEY, limits=FAST):
    return S3Source(bucket.uri(key), limits)


def test_fetch_returns_the_bytes_and_etag_then_none_while_unchanged(s3_bucket, s3_env):
    etag = s3_bucket.put(KEY, b"card_id\nA\n")
    catalogue = source(s3_bucket)
    fetched = catalogue.fetch(None)
    assert (fetched.data, fetched.etag) == (b"card_id\nA\n", etag)
    assert catalogue.fetch(etag) is None  # S3's 304, which boto3 raises as a ClientError
    new_etag = s3_bucket.put(KEY, b"card_id\nB\n")
    assert catalogue.fetch(etag).etag == new_etag


def test_missing_object_and_wrong_credentials_are_permanent_errors(s3_bucket, s3_env, monkeypatch):
    with pytest.raises(S3Error, match="404") as missing:
        source(s3_bucket).fetch(None)
    assert not missing.value.transient
    s3_bucket.put(KEY, b"x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(S3Error, match="403") as forbidden:
        source(s3_bucket).fetch(None)
    assert not forbidden.value.transient


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.SERVICE_UNAVAILABLE, "HTTP 503 SlowDown"),
        (Fault.RESET_ON_ACCEPT, "S3 unreachable"),
        (Fault.RESET_MID_BODY, "S3 body read failed"),
        (Fault.LATENCY, "S3 unreachable: ReadTimeoutError"),
    ],
)
def test_faults_are_transient_errors_that_name_no_data(s3_bucket, fault_proxy, s3_env, fault, expected):
    s3_bucket.put(KEY, b"card_id,secret-looking-value\n" + b"x" * 4000)
    fault_proxy.set(fault, latency=1.0)
    with pytest.raises(S3Error) as error:
        source(s3_bucket).fetch(None)
    assert error.value.transient
    assert expected in error.value.summary
    assert "secret-looking-value" not in str(error.value)


def test_botocore_makes_the_configured_number_of_attempts(s3_bucket, fault_proxy, s3_env):
    s3_bucket.put(KEY, b"x")
    fault_proxy.set(Fault.SERVICE_UNAVAILABLE)
    with pytest.raises(S3Error):
        source(s3_bucket, limits=ClientLimits(0.5, 0.5, attempts=3)).fetch(None)
    assert fault_proxy.accepted == 3


def test_a_body_reset_is_not_retried_by_botocore_so_the_caller_must(s3_bucket, fault_proxy, s3_env):
    s3_bucket.put(KEY, b"y" * 5000)
    fault_proxy.set(Fault.RESET_MID_BODY)
    with pytest.raises(S3Error, match="body read failed"):
        source(s3_bucket, limits=ClientLimits(0.5, 0.5, attempts=3)).fetch(None)
    assert fault_proxy.accepted == 1


def test_refused_connections_are_transient(s3_bucket, fault_proxy, s3_env):
    s3_bucket.put(KEY, b"x")
    fault_proxy.refuse()
    with pytest.raises(S3Error, match="unreachable") as error:
        source(s3_bucket).fetch(None)
    assert error.value.transient


def test_an_on_demand_timeout_bounds_the_call_to_one_short_attempt(s3_bucket, fault_proxy, s3_env):
    s3_bucket.put(KEY, b"x")
    fault_proxy.set(Fault.LATENCY, latency=2.0)
    # With its own 5 s read timeout the call would wait out the 2 s delay and succeed.
    with pytest.raises(S3Error, match="ReadTimeoutError"):
        source(s3_bucket, limits=ClientLimits(5, 5, attempts=3)).fetch(None, timeout=0.3)
    assert fault_proxy.accepted == 1


def test_an_object_too_large_to_be_a_catalogue_is_refused(s3_bucket, s3_env, monkeypatch):
    monkeypatch.setattr(s3_source, "MAX_CATALOG_BYTES", 1000)
    s3_bucket.put(KEY, b"z" * 1001)
    with pytest.raises(S3Error, match="over 1000") as error:
        source(s3_bucket).fetch(None)
    assert not error.value.transient
