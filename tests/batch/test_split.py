"""Files cut into MultiRecord mini-batches: whole lines under the payload limit, in order, header repeated."""

import io

import pytest

from batch.errors import TransformError
from batch.split import mini_batches


def batches(text: bytes, limit: int, header: bool = False):
    return list(mini_batches(io.BytesIO(text), limit, header))


def test_lines_are_grouped_under_the_limit_never_split_and_in_order():
    lines = [f"{i},{'x' * (i % 7)}\n".encode() for i in range(200)]
    found = batches(b"".join(lines), limit=100)
    assert all(len(batch.payload) <= 100 for batch in found)
    assert b"".join(batch.payload for batch in found) == b"".join(lines)
    assert sum(batch.records for batch in found) == 200
    assert [batch.first_line for batch in found] == [1] + [b.last_line + 1 for b in found[:-1]]
    assert all(batch.payload.count(b"\n") == batch.records for batch in found)


def test_a_batch_is_filled_up_to_exactly_the_limit():
    found = batches(b"abcd\n" * 10, limit=10)
    assert [batch.payload for batch in found] == [b"abcd\nabcd\n"] * 5


def test_the_header_starts_every_batch_and_is_not_a_record():
    found = batches(b"h1,h2\r\n1,2\r\n3,4\r\n5,6\r\n", limit=17, header=True)
    assert [batch.payload for batch in found] == [b"h1,h2\r\n1,2\r\n3,4\r\n", b"h1,h2\r\n5,6\r\n"]
    assert [(batch.records, batch.first_line, batch.last_line) for batch in found] == [(2, 2, 3), (1, 4, 4)]


def test_blank_lines_are_not_records_and_a_last_line_gets_its_line_break():
    found = batches(b"1,2\n\n  \r\n3,4", limit=1000)
    assert [(batch.payload, batch.records, batch.first_line, batch.last_line) for batch in found] == [
        (b"1,2\n3,4\n", 2, 1, 4)
    ]
    assert found[0].line_of(2) == "record 2 of lines 1-4"  # blank lines in between: no exact line number
    assert batches(b"1\n2\n3\n", 1000)[0].line_of(2) == "line 2"
    assert batches(b"", 1000) == []


def test_a_line_over_the_limit_stops_the_job_naming_it():
    with pytest.raises(TransformError, match=r"line 3 is 13 bytes: it alone exceeds the payload limit of 12 bytes"):
        batches(b"1\n2\n" + b"x" * 12 + b"\n", limit=12)
    with pytest.raises(TransformError, match="line 2 is 4 bytes with the header"):
        batches(b"header\n123\n", limit=9, header=True)


def test_a_header_is_required_when_announced():
    with pytest.raises(TransformError, match="no header"):
        batches(b"\n1,2\n", limit=100, header=True)
