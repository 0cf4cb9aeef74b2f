"""Request body → ScoringRequest: the text checks every format shares, then one decoder per media type."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

from handler.codecs.csv_decoder import decode_csv
from handler.codecs.json_decoder import decode_json, decode_jsonlines
from handler.codecs.media import CSV, JSON, JSONLINES, unsupported_media_type
from handler.errors import bad_request
from handler.model.metadata import ModelMetadata
from handler.model.request import ScoringRequest
from handler.problems import empty_request

DECODERS: dict[str, Callable[[str, ModelMetadata], ScoringRequest]] = {
    JSON: decode_json,
    CSV: decode_csv,
    JSONLINES: decode_jsonlines,
}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_request(body: bytes | bytearray, media_type: str, metadata: ModelMetadata) -> ScoringRequest:
    """Validate and decode a body; any problem is a RequestError (400 naming rows and fields, 415)."""
    decoder = DECODERS.get(media_type)
    if decoder is None:
        raise unsupported_media_type(f"Content-Type {media_type!r} is not supported")
    text = body_text(body)
    with _gc_paused():
        return decoder(text, metadata)


def body_text(body: bytes | bytearray) -> str:
    """The body as text: UTF-8 only (a leading BOM is dropped), no NUL bytes, not blank."""
    hint = " (it looks like UTF-16)" if body.startswith(UTF16_BOMS) else ""
    if b"\x00" in body:
        raise bad_request("invalid_encoding", f"the body contains NUL bytes{hint}; send UTF-8 text")
    try:
        text = bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"the body is not UTF-8 text{hint}: bad byte at offset {exc.start}"
        raise bad_request("invalid_encoding", message) from None
    if not text.strip():
        raise empty_request("the body is empty")
    return text


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Decoding a large body allocates a container per row; the cyclic collector would rescan them all many times
    (docs/performance.md: twice as slow with it). Nothing here creates cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
