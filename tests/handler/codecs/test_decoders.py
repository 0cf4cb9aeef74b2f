"""decode_request: the body's text checks, dispatch by media type, and nothing but RequestError for bad input."""

import contextlib
import gc
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.codecs.decoders import body_text, decode_request
from handler.codecs.media import CSV, JSON, JSONLINES, MEDIA_TYPES
from handler.errors import RequestError
from tests.support.artifacts import applicant, metadata
from tests.support.rejections import rejection

META = metadata()
NAMES = META.applicant_feature_names
ROW = "0,37,52000,1,0,2,48,1,6"
ONE_JSON = json.dumps({"applicant": applicant(applicant_id="a-1")})


def refused(body, code, media_type=JSON):
    return rejection(decode_request, body, media_type, META, code=code)


@pytest.mark.parametrize(
    ("media_type", "body"),
    [(JSON, ONE_JSON.encode()), (CSV, ROW.encode()), (JSONLINES, json.dumps(applicant()).encode())],
)
def test_each_media_type_has_a_decoder(media_type, body):
    request = decode_request(body, media_type, META)
    assert request.features.shape == (1, len(NAMES))


def test_an_unknown_media_type_is_415():
    rejection(decode_request, ROW.encode(), "text/plain", META, status=415, code="unsupported_media_type")


def test_bodies_may_be_bytearrays_as_mms_delivers_them():
    assert decode_request(bytearray(ROW.encode()), CSV, META).features.shape == (1, 9)


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_a_leading_utf8_bom_is_tolerated(media_type):
    body = {JSON: ONE_JSON, CSV: ",".join(NAMES) + "\n" + ROW, JSONLINES: json.dumps(applicant())}[media_type]
    assert decode_request(b"\xef\xbb\xbf" + body.encode(), media_type, META).features.shape == (1, 9)


def test_non_ascii_utf8_text_is_fine():
    request = decode_request(json.dumps({"applicant": applicant(applicant_id="Zoë-東京")}).encode(), JSON, META)
    assert request.applicant_ids == ["Zoë-東京"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_other_encodings_are_refused(encoding):
    refused(ONE_JSON.encode(encoding), "invalid_encoding")


def test_utf16_is_named_when_recognisable():
    assert "UTF-16" in refused(ONE_JSON.encode("utf-16"), "invalid_encoding").message


def test_latin1_bytes_are_refused():
    body = json.dumps({"applicant": applicant(applicant_id="Zoë")}, ensure_ascii=False).encode("latin-1")
    refused(body, "invalid_encoding")


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_nul_bytes_are_refused(media_type):
    refused(ROW.encode() + b"\x00", "invalid_encoding", media_type)


@pytest.mark.parametrize("body", [b"", b" ", b"\r\n\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_an_empty_body_is_empty_request(body, media_type):
    refused(body, "empty_request", media_type)


def test_body_text_drops_only_the_bom():
    assert body_text(b"\xef\xbb\xbf a,b") == " a,b"


@pytest.mark.parametrize("body", [ONE_JSON.encode(), b"{", b"\x00"])
def test_the_garbage_collector_is_back_on_afterwards(body):
    assert gc.isenabled()
    with contextlib.suppress(RequestError):
        decode_request(body, JSON, META)
    assert gc.isenabled()


# --- Properties: whatever arrives, the caller gets a request or a RequestError, never another exception.

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decodes_or_refuses(body, media_type):
    try:
        request = decode_request(body, media_type, META)
    except RequestError as error:
        assert 400 <= error.status < 500
        json.dumps(error.body())  # and the error can always be written
        return None
    assert request.features.shape == (len(request), len(NAMES))
    return request


@FAST
@given(st.binary(max_size=300), st.sampled_from(MEDIA_TYPES))
def test_arbitrary_bytes(body, media_type):
    decodes_or_refuses(body, media_type)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FIELD_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | JSON_VALUES
APPLICANTS = st.dictionaries(st.sampled_from([*NAMES, "applicant_id", "other"]), FIELD_VALUES, max_size=12)


@FAST
@given(JSON_VALUES)
def test_arbitrary_json_documents(document):
    decodes_or_refuses(json.dumps(document).encode(), JSON)
    decodes_or_refuses(json.dumps({"applicants": [document]}).encode(), JSON)


@FAST
@given(
    st.lists(APPLICANTS, min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(["cards", "top_k", "x"]), JSON_VALUES, max_size=2),
)
def test_arbitrary_applicants_and_options(applicants, options):
    request = decodes_or_refuses(json.dumps({"applicants": applicants, **options}).encode(), JSON)
    if request is not None:
        assert len(request) == len(applicants)
    lines = "\n".join(json.dumps(applicant) for applicant in applicants).encode()
    request = decodes_or_refuses(lines, JSONLINES)
    if request is not None:
        assert len(request) == len(applicants)


CSV_CELLS = st.sampled_from(["", " ", "1", "0", "37", "-1", "1e400", "nan", "yes", "TRUE", "x", '"', "é", "age"])


@FAST
@given(st.lists(st.lists(CSV_CELLS | st.text(max_size=4), min_size=0, max_size=11), min_size=0, max_size=5))
def test_arbitrary_csv(rows):
    decodes_or_refuses("\r\n".join(",".join(row) for row in rows).encode(), CSV)
