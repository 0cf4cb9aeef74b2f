"""The codec API inference.py uses: headers → media types, body → ScoringRequest, Prediction/error → body.

One import point over the small modules that do the work: media (Content-Type, Accept), decoders (+ json_decoder,
csv_decoder, features, problems), options (body options and custom attributes) and encoders.
"""

from __future__ import annotations

from handler.codecs.decoders import decode_request
from handler.codecs.encoders import encode_error, encode_prediction
from handler.codecs.media import negotiate_accept, parse_content_type
from handler.codecs.options import apply_options, parse_custom_attributes
from handler.model.request import ScoringRequest

__all__ = [
    "decode_request",
    "encode_error",
    "encode_prediction",
    "negotiate_accept",
    "parse_content_type",
    "with_custom_attributes",
]


def with_custom_attributes(request: ScoringRequest, header: str | None) -> ScoringRequest:
    """The request with X-Amzn-SageMaker-Custom-Attributes options applied where the body set none."""
    if header is None:
        return request
    return apply_options(request, parse_custom_attributes(header))
