"""Properties of the handler exactly as an MMS worker calls it — HandlerService.handle with MMS's own Context —
on a real (small) model, through model_fn, input_fn, predict_fn and output_fn.

The codec modules have their own property tests (tests/handler/codecs/test_decoders.py, test_encoders.py, test_media.py,
test_options.py); these add what only the whole chain shows: headers, body and options together, error bodies
that must still be written (a field name echoed from the request), and scored output that holds exactly one
result — one line, for CSV and JSON Lines — per applicant, in input order, whatever the ids contain.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mms.context import Context, RequestProcessor

import config
from handler.worker.inference import model_fn
from handler.worker.service import HandlerService
from tests.support.artifacts import APPLICANT_FEATURES, write_artifact

CSV, JSON, JSONL = "text/csv", "application/json", "application/jsonlines"
MEDIA_TYPES = (JSON, CSV, JSONL)
ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
N_CARDS = 6
CARD_IDS = [f"card-{i:02d}" for i in range(N_CARDS)]
REFUSALS = {400, 406, 415}
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandlerService]:
    """A worker's handler: model_fn on a small artefact, with settings of its own (not this process's env)."""
    root = tmp_path_factory.mktemp("handler")
    model_dir = write_artifact(root / "model", n_cards=N_CARDS)
    worker_settings = config.from_env(
        {"MODEL_DIR": str(model_dir), "CONTROL_DIR": str(root / "control"), "LOG_DIR": str(root / "logs")}
    )
    handler = HandlerService()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "load", lambda: worker_settings)
        handler.model = model_fn(str(model_dir))
    yield handler
    handler.model.refresher.stop()


def call(service: HandlerService, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """One request as MMS's worker hands it over: (status, content type, body)."""
    context = Context("model", "/unused", None, 1, None, "1.1.11")
    context.request_ids = {0: "request-0"}
    context.request_processor = [RequestProcessor({key.lower(): value for key, value in headers.items()})]
    answer = service.handle([{"body": bytearray(body)}], context)
    assert isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], bytes)
    status, _ = context.get_response_status(0)
    return status, context.get_response_content_type(0), answer[0]


# --- valid requests: one result per applicant -------------------------------------------------------------------


def feature_values(csv_cells: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Every required feature with an in-range value (boundaries included), spelt as JSON values or CSV cells."""
    fields = {}
    for name, kind, low, high in APPLICANT_FEATURES:
        if kind == "boolean":
            spellings = ["1", "0", "true", "FALSE", "Yes", "no"] if csv_cells else [0, 1, True, False]
            fields[name] = st.sampled_from(spellings)
        else:
            number = st.sampled_from([low, high]) | st.integers(low, high) | st.floats(low, high, allow_nan=False)
            fields[name] = number.map(repr) if csv_cells else number
    return st.fixed_dictionaries(fields)


# Ids as callers write them: any text (quotes, commas, line breaks, U+2028, emoji) or integers; never NUL in CSV.
JSON_IDS = st.none() | st.text(max_size=12) | st.integers(-(2**63) + 1, 2**63 - 1)
CSV_IDS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "cards": st.lists(st.sampled_from(CARD_IDS), min_size=1, max_size=N_CARDS, unique=True),
        "top_k": st.integers(1, N_CARDS + 2),
    },
)


def attributes(options: dict[str, Any]) -> str:
    pairs = ["trace=property-test"]
    if "cards" in options:
        pairs.append("cards=" + ",".join(options["cards"]))
    if "top_k" in options:
        pairs.append(f"top_k={options['top_k']}")
    return "; ".join(pairs)


def json_body(rows: list[dict[str, Any]], ids: list[Any], options: dict[str, Any], lines: bool) -> bytes:
    applicants = [{"applicant_id": applicant_id, **row} for row, applicant_id in zip(rows, ids, strict=True)]
    if lines:
        return "\n".join(json.dumps(applicant, ensure_ascii=False) for applicant in applicants).encode()
    return json.dumps({"applicants": applicants, **options}).encode()


def csv_body(rows: list[dict[str, str]], ids: list[str], line_end: str) -> bytes:
    text = io.StringIO()
    # csv.writer quotes only cells holding a character of its own line terminator: with LF lines, an id holding
    # a lone CR would be written bare (and read back as a line break), so quote every cell then.
    writer = csv.writer(text, lineterminator=line_end, quoting=csv.QUOTE_ALL if line_end == "\n" else csv.QUOTE_MINIMAL)
    names = list(reversed(rows[0]))  # a header: columns matched by name, in any order
    writer.writerow(["applicant_id", *names])
    writer.writerows(
        [applicant_id, *(row[name] for name in names)] for row, applicant_id in zip(rows, ids, strict=True)
    )
    return text.getvalue().encode()


def assert_one_result_per_applicant(media_type: str, body: bytes, ids: list[Any], options: dict[str, Any]) -> None:
    cards = len(options.get("cards", CARD_IDS))
    kept = min(options.get("top_k", cards), cards)
    text = body.decode("utf-8")
    if media_type == CSV:  # every selected card, in catalogue order, whatever top_k says
        lines = text.split("\n")
        assert len(lines) == len(ids)
        assert all(len(line.split(",")) == cards for line in lines)
        return
    results = json.loads(text)["results"] if media_type == JSON else [json.loads(line) for line in text.split("\n")]
    assert [result["applicant_id"] for result in results] == ids
    assert all(len(result["odds"]) == kept for result in results)


@PROPERTIES
@given(
    st.data(),
    st.integers(1, 25),
    st.sampled_from([JSON, JSONL]),
    st.sampled_from(MEDIA_TYPES),
    OPTIONS,
    st.booleans(),
)
def test_json_and_json_lines_give_one_result_per_applicant(service, data, n, content_type, accept, options, header):
    rows = data.draw(st.lists(feature_values(csv_cells=False), min_size=n, max_size=n))
    ids = data.draw(st.lists(JSON_IDS, min_size=n, max_size=n))
    lines = content_type == JSONL
    body = json_body(rows, ids, {} if lines or header else options, lines)
    headers = {"Content-Type": content_type, "Accept": accept}
    if lines or header:
        headers[ATTRIBUTES] = attributes(options)
    status, media_type, answer = call(service, body, headers)
    assert (status, media_type) == (200, accept), answer[:300]
    assert_one_result_per_applicant(accept, answer, ids, options)


@PROPERTIES
@given(st.data(), st.integers(1, 25), st.sampled_from(MEDIA_TYPES), OPTIONS, st.sampled_from(["\n", "\r\n"]))
def test_csv_gives_one_result_per_applicant(service, data, n, accept, options, line_end):
    rows = data.draw(st.lists(feature_values(csv_cells=True), min_size=n, max_size=n))
    ids = data.draw(st.lists(CSV_IDS, min_size=n, max_size=n))
    headers = {"Content-Type": CSV, "Accept": accept, ATTRIBUTES: attributes(options)}
    status, media_type, answer = call(service, csv_body(rows, ids, line_end), headers)
    assert (status, media_type) == (200, accept), answer[:300]
    assert_one_result_per_applicant(accept, answer, [applicant_id.strip() or None for applicant_id in ids], options)


# --- anything at all: a scored response or one of our JSON refusals, never a 5xx or an exception -----------------

# Any code point, lone surrogates (rare among all code points, so drawn on their own too) included: written into
# JSON as "\udXXX" escapes, which JSON allows but UTF-8 cannot carry back.
# (st.text drops surrogates from a mixed alphabet, so the text is built from a list of characters.)
ANY_TEXT = st.lists(st.characters(exclude_categories=()) | st.characters(categories=["Cs"]), max_size=8).map("".join)
NAMES = [name for name, *_ in APPLICANT_FEATURES]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT | st.sampled_from(NAMES), inner, max_size=4),
    max_leaves=12,
)
APPLICANT_LIKE = st.dictionaries(st.sampled_from([*NAMES, "applicant_id"]) | ANY_TEXT, JSON_VALUES, max_size=11)
BODIES = (
    st.binary(max_size=200)
    | st.builds(lambda doc: json.dumps(doc).encode(), JSON_VALUES)
    | st.builds(lambda rows: json.dumps({"applicants": rows}).encode(), st.lists(APPLICANT_LIKE, max_size=3))
    | st.builds(lambda rows: "\n".join(map(json.dumps, rows)).encode(), st.lists(APPLICANT_LIKE, max_size=3))
    | st.builds(
        lambda row, applicant_id: json.dumps({"applicant": {**row, "applicant_id": applicant_id}}).encode(),
        feature_values(csv_cells=False),
        ANY_TEXT,
    )
    | st.builds(lambda cells: ",".join(cells).encode("utf-8", "surrogatepass"), st.lists(ANY_TEXT, max_size=10))
)
HEADER_VALUES = st.none() | st.sampled_from([*MEDIA_TYPES, "*/*", "text/csv; charset=utf-8"]) | st.text(max_size=30)
ATTRIBUTE_VALUES = (
    st.none()
    | st.text(max_size=30)
    | st.builds(
        "; ".join,
        st.lists(st.sampled_from(["top_k=2", "top_k=0", "cards=card-01", "cards=x", "refresh-card-variables=no"])),
    )
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, HEADER_VALUES, HEADER_VALUES, ATTRIBUTE_VALUES)
def test_any_request_is_scored_or_refused_with_a_json_4xx(service, body, content_type, accept, custom):
    sent = {"Content-Type": content_type, "Accept": accept, ATTRIBUTES: custom}
    status, media_type, answer = call(service, body, {key: value for key, value in sent.items() if value is not None})
    if status == 200:
        assert media_type in MEDIA_TYPES
        answer.decode("utf-8")
        return
    assert status in REFUSALS, answer[:300]
    assert media_type == JSON
    error = json.loads(answer)["error"]
    assert error["code"] and error["message"]
