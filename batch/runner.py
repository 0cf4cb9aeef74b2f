"""`python entrypoint.py transform`: a local SageMaker batch transform job against a running server.

Like SageMaker with SplitType=Line, BatchStrategy=MultiRecord and AssembleWith=Line: each input file is cut at
line boundaries into requests of at most MaxPayloadInMB, up to MaxConcurrentTransforms of them in flight, and
every response is written to <output>/<file>.out followed by a line break, in input order — so output line N
holds the odds of the N-th non-blank input line. Each response must have exactly one line per record sent.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from batch.client import Invoker, execution_parameters
from batch.errors import TransformError
from batch.split import MiniBatch, mini_batches
from config.parsing import argument, whole_in
from config.settings import (
    BATCH_TIMEOUT_SECONDS,
    CSV,
    DEFAULT_PAYLOAD_MB,
    LINE_MEDIA_TYPES,
    MAX_CONCURRENT_TRANSFORMS,
    MAX_PAYLOAD_MB,
    MAX_TOTAL_PAYLOAD_MB,
)

MB = 1024 * 1024
OUTPUT_SUFFIX = ".out"


@dataclass(frozen=True)
class Job:
    invoke: Invoker
    payload_limit: int  # bytes
    concurrency: int
    csv_header: bool


@dataclass(frozen=True)
class FileReport:
    output: Path
    records: int
    batches: int
    seconds: float


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        job = _job(args)
        pairs = list(_files(Path(args.input), Path(args.output)))
        print(
            f"transform: {len(pairs)} file(s), mini-batches of at most {job.payload_limit // MB} MB, "
            f"{job.concurrency} in flight, to {args.url}",
            flush=True,
        )
        reports = []
        for source, target in pairs:
            report = transform_file(source, target, job)
            print(
                f"{source}: {report.records:,} records in {report.batches} mini-batch(es) -> {report.output} "
                f"({report.seconds:.1f} s)",
                flush=True,
            )
            reports.append(report)
    except TransformError as error:
        print(f"transform: failed: {error}", file=sys.stderr)
        return 1
    records = sum(report.records for report in reports)
    seconds = time.perf_counter() - started
    rate = records / seconds if seconds else 0.0
    print(f"transform: {records:,} records in {len(reports)} file(s), {seconds:.1f} s, {rate:,.0f} records/s")
    return 0


def transform_file(source: Path, target: Path, job: Job) -> FileReport:
    """Every mini-batch of `source` scored, the responses written to `target` in order (atomically, when whole)."""
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    records = batches = 0
    pool = ThreadPoolExecutor(job.concurrency, thread_name_prefix="transform")
    pending: deque[tuple[MiniBatch, Future[bytes]]] = deque()
    try:
        with source.open("rb") as stream, partial.open("wb") as out:
            for batch in mini_batches(stream, job.payload_limit, job.csv_header):
                pending.append((batch, pool.submit(job.invoke, batch, source.name)))
                if len(pending) >= job.concurrency:  # bounded: at most `concurrency` payloads held at once
                    records += _write(out, *pending.popleft(), source.name)
                batches += 1
            while pending:
                records += _write(out, *pending.popleft(), source.name)
        partial.replace(target)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        partial.unlink(missing_ok=True)
    return FileReport(target, records, batches, time.perf_counter() - started)


def _write(out: BinaryIO, batch: MiniBatch, answer: Future[bytes], file: str) -> int:
    """One response, followed by a line break as AssembleWith=Line does; it must hold one line per record."""
    body = answer.result()
    lines = body.count(b"\n") + 1
    if lines != batch.records:
        raise TransformError(
            f"{file} lines {batch.first_line}-{batch.last_line}: the response has {lines:,} lines for "
            f"{batch.records:,} records (a CSV header? use --csv-header)"
        )
    out.write(body)
    out.write(b"\n")
    return batch.records


def _files(source: Path, output: Path) -> Iterator[tuple[Path, Path]]:
    """(input file, its .out file): a file, or every non-hidden file under a directory (sub-folders kept)."""
    if source.is_file():
        yield source, output / (source.name + OUTPUT_SUFFIX)
        return
    if not source.is_dir():
        raise TransformError(f"--input {source} is neither a file nor a directory")
    found = sorted(
        path
        for path in source.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(source).parts)
    )
    if not found:
        raise TransformError(f"--input {source} holds no files")
    for path in found:
        relative = path.relative_to(source)
        yield path, output / relative.with_name(relative.name + OUTPUT_SUFFIX)


def _job(args: argparse.Namespace) -> Job:
    if args.csv_header and args.content_type != CSV:
        raise TransformError("--csv-header applies to text/csv input only")
    payload: int | None = args.max_payload_mb
    concurrency: int | None = args.concurrency
    if payload is None or concurrency is None:
        advised = execution_parameters(args.url)
        payload = payload or advised.max_payload_mb
        concurrency = concurrency or advised.max_concurrent_transforms
    if payload * concurrency > MAX_TOTAL_PAYLOAD_MB:
        raise TransformError(
            f"{concurrency} concurrent transforms x {payload} MB = {payload * concurrency} MB: SageMaker allows at "
            f"most {MAX_TOTAL_PAYLOAD_MB} MB"
        )
    invoke = Invoker(
        args.url.rstrip("/"),
        args.content_type,
        args.accept,
        timeout_seconds=args.timeout,
        custom_attributes=args.custom_attributes,
    )
    return Job(invoke, payload * MB, concurrency, args.csv_header)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="entrypoint.py transform",
        description="Run a local batch transform job (SplitType=Line, MultiRecord, AssembleWith=Line) against a "
        "running server; writes <output>/<file>.out, one line per non-blank input line.",
    )
    parser.add_argument("--input", required=True, help="an input file, or a directory of them (sub-folders too)")
    parser.add_argument("--output", required=True, help="directory for the .out files")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the server (default %(default)s)")
    parser.add_argument("--content-type", choices=LINE_MEDIA_TYPES, default=CSV)
    parser.add_argument(
        "--accept", choices=LINE_MEDIA_TYPES, default=CSV, help="a line format, so output lines match input lines"
    )
    parser.add_argument(
        "--max-payload-mb",
        type=argument(whole_in(1, MAX_PAYLOAD_MB)),
        help=f"largest request (default: the server's /execution-parameters, else {DEFAULT_PAYLOAD_MB})",
    )
    parser.add_argument(
        "--concurrency",
        type=argument(whole_in(1, MAX_CONCURRENT_TRANSFORMS)),
        help="requests in flight, MaxConcurrentTransforms (default: the server's /execution-parameters, else 1)",
    )
    parser.add_argument(
        "--csv-header",
        action="store_true",
        help="the first line of each file is a CSV header: sent with every mini-batch, not scored, not in the output",
    )
    parser.add_argument(
        "--custom-attributes",
        help='options for every request, as SageMaker custom attributes, e.g. "reasons=4; cards=a,b" (reason codes '
        "need --accept application/jsonlines)",
    )
    parser.add_argument(
        "--timeout",
        type=argument(whole_in(1, 3600)),
        default=BATCH_TIMEOUT_SECONDS,
        help="seconds per request (default %(default)s)",
    )
    return parser
