"""Input file → MultiRecord mini-batches, as SageMaker does with SplitType=Line and BatchStrategy=MultiRecord.

A mini-batch is whole lines, as many as fit under the payload limit; a line is never split. Blank lines are not
records (the server skips them too), so they are left out and output line N belongs to the N-th non-blank line.
With a CSV header, the header is the first line of every mini-batch (SageMaker knows nothing of headers, so a
header would otherwise reach only the first request and be scored as an applicant in none of the others).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from batch.errors import TransformError

BLANK = b" \t\r\n"


@dataclass(frozen=True)
class MiniBatch:
    payload: bytes  # the request body: [header +] whole lines, each ending in a line break
    records: int  # non-blank lines, not counting the header: the response must have exactly this many lines
    first_line: int  # the file's 1-based line numbers of the first and the last record
    last_line: int

    def line_of(self, record: int) -> str:
        """Where the 1-based `record` of this batch is in the file (exact unless blank lines were skipped)."""
        if self.last_line - self.first_line + 1 == self.records:
            return f"line {self.first_line + record - 1}"
        return f"record {record} of lines {self.first_line}-{self.last_line}"


def mini_batches(stream: BinaryIO, limit: int, header: bool = False) -> Iterator[MiniBatch]:
    """Whole lines of `stream` grouped into payloads of at most `limit` bytes, in file order."""
    head = _terminated(stream.readline()) if header else b""
    if header and not head.strip(BLANK):
        raise TransformError("the file has no header line (--csv-header was given)")
    lines: list[bytes] = [head] if head else []
    size, first, last = len(head), 0, 0
    for number, line in enumerate(stream, start=2 if header else 1):
        if not line.strip(BLANK):
            continue
        line = _terminated(line)
        if len(head) + len(line) > limit:
            raise TransformError(
                f"line {number} is {len(line):,} bytes{' with the header' if head else ''}: it alone exceeds the "
                f"payload limit of {limit:,} bytes (raise --max-payload-mb; a line is never split)"
            )
        if size + len(line) > limit:
            yield _batch(lines, head, first, last)
            lines, size = [head] if head else [], len(head)
        if len(lines) == (1 if head else 0):
            first = number
        lines.append(line)
        size += len(line)
        last = number
    if len(lines) > (1 if head else 0):
        yield _batch(lines, head, first, last)


def _terminated(line: bytes) -> bytes:
    """The last line of a file may lack its line break; every line of a payload has one."""
    return line if line.endswith(b"\n") or not line else line + b"\n"


def _batch(lines: list[bytes], head: bytes, first: int, last: int) -> MiniBatch:
    return MiniBatch(b"".join(lines), len(lines) - (1 if head else 0), first, last)
