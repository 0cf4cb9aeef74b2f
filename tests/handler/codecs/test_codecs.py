"""The codec API inference.py imports: custom attributes applied on top of a decoded body."""

import json

from handler.codecs import decode_request, with_custom_attributes
from handler.codecs.media import CSV, JSON
from tests.support.artifacts import applicant, metadata
from tests.support.rejections import rejection

META = metadata()


def test_attributes_set_options_a_csv_body_cannot_carry():
    request = decode_request(b"0,37,52000,1,0,2,48,1,6", CSV, META)
    request = with_custom_attributes(request, "top_k=2; cards=cash-plus,travel-elite; team=risk")
    assert (request.cards, request.top_k, request.refresh_catalog) == (("cash-plus", "travel-elite"), 2, False)


def test_the_body_wins_over_the_attributes():
    body = json.dumps({"applicant": applicant(), "top_k": 1}).encode()
    request = with_custom_attributes(decode_request(body, JSON, META), "top_k=5; refresh-card-variables=yes")
    assert (request.top_k, request.refresh_catalog) == (1, True)


def test_no_header_changes_nothing():
    request = decode_request(b"0,37,52000,1,0,2,48,1,6", CSV, META)
    unchanged = with_custom_attributes(request, None)
    assert (unchanged.cards, unchanged.top_k, unchanged.refresh_catalog) == (None, None, False)
    assert unchanged.features is request.features


def test_a_bad_attribute_is_a_400():
    request = decode_request(b"0,37,52000,1,0,2,48,1,6", CSV, META)
    rejection(with_custom_attributes, request, "top_k=0", code="invalid_value")
