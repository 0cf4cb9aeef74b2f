"""S3 locations: one strict reading of s3://bucket/key for the settings, the catalogue refresh and the deploy tool."""

import pytest

from config.s3 import S3Location, parse_s3_object, parse_s3_uri


def test_a_uri_splits_into_bucket_and_key_at_the_first_slash():
    assert parse_s3_uri("s3://cards/data/card_variables.csv") == S3Location("cards", "data/card_variables.csv")
    assert parse_s3_uri("s3://my.bucket-1/prefix/") == S3Location("my.bucket-1", "prefix/")
    assert parse_s3_uri("s3://bucket") == S3Location("bucket", "")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://bucket/key", "is not an S3 URI: expected s3://bucket/key"),
        ("bucket/key", "is not an S3 URI"),
        ("s3:///key", "does not start with a valid bucket name"),
        ("s3://Bad_Bucket/key", "does not start with a valid bucket name"),
        ("s3://ab/key", "does not start with a valid bucket name"),  # 3 characters at least
        ("s3://-bucket/key", "does not start with a valid bucket name"),
    ],
)
def test_a_uri_that_is_not_s3_or_has_no_valid_bucket_is_refused_with_the_reason(raw, reason):
    with pytest.raises(ValueError, match=reason) as raised:
        parse_s3_uri(raw)
    assert repr(raw) in str(raised.value)


@pytest.mark.parametrize("raw", ["s3://bucket", "s3://bucket/", "s3://bucket/prefix/"])
def test_an_object_uri_must_name_an_object_not_a_bucket_or_prefix(raw):
    with pytest.raises(ValueError, match="names no object: expected s3://bucket/key"):
        parse_s3_object(raw)


def test_an_object_uri_reads_back_as_given():
    raw = "s3://cards/data/card_variables.csv"
    assert parse_s3_object(raw).uri == raw


def test_a_child_goes_inside_a_prefix_but_an_object_is_its_own_place():
    assert S3Location("models", "v7/").child("model.tar.gz") == S3Location("models", "v7/model.tar.gz")
    assert S3Location("models", "").child("model.tar.gz") == S3Location("models", "model.tar.gz")
    assert S3Location("models", "exact.tar.gz").child("model.tar.gz") == S3Location("models", "exact.tar.gz")
