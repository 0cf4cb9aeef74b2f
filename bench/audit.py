"""What the per-request audit line costs end to end (issue 15): our server with the line off, through MMS's Java stdout
relay, and written straight to the launcher's output pipe, alternated in one invocation, with wrk on loopback.

    .venv/bin/python -m bench.audit [--modes off,relay,direct] [--concurrency 1,4] [--rounds 2] [--duration 5]

For each mode, round and concurrency: requests/s, p50, the server's CPU per request (launcher, Java, backend and
workers, summed from /proc) and the audit lines the server printed per request answered. Prints one table of each
mode's median figures and its throughput and CPU against `off` measured in the same round (ratios, never seconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.harness import HostLock, Server
from bench.load import run_wrk
from bench.noise import Noise
from bench.probe import check_answer, invoke
from bench.report import NOISY_CORES
from bench.workload import RequestType, request_types
from config.settings import DEMO_MODEL_DIR
from handler.model.metadata import read_metadata

MODES = {
    "off": {"AUDIT_LOG": "false"},
    "relay": {"AUDIT_LOG": "true", "AUDIT_LOG_DIRECT": "false"},
    "direct": {"AUDIT_LOG": "true", "AUDIT_LOG_DIRECT": "true"},
}
AUDIT_MARK = '"logger": "handler.audit"'


@dataclass(frozen=True)
class Run:
    mode: str
    round: int
    concurrency: int
    req_per_s: float
    p50_ms: float
    cpu_us_per_request: float
    launcher_java_python_us: tuple[float, float, float]  # cpu_us_per_request split by process
    audit_lines_per_request: float
    foreign_cores: float


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    parser.add_argument("--concurrency", default="1,4", help="comma-separated connection counts")
    parser.add_argument("--rounds", type=int, default=2, help="times each mode's server is started (alternated)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per cell")
    parser.add_argument("--warmup", type=int, default=4, help="seconds of discarded load per server")
    parser.add_argument("--retries", type=int, default=2, help="re-runs of a cell other processes disturbed")
    parser.add_argument("--request", default="json-1", help="bench request type (bench/workload.py)")
    parser.add_argument("--model-dir", type=Path, default=DEMO_MODEL_DIR)
    parser.add_argument("--out", type=Path, help="also write the runs as JSON here")
    args = parser.parse_args(argv)
    args.modes = args.modes.split(",")
    args.concurrency = [int(value) for value in args.concurrency.split(",")]
    if set(args.modes) - set(MODES) or "off" not in args.modes or args.rounds < 1:
        parser.error("--modes must include off and name only " + ",".join(MODES))
    return args


def server_cpu_seconds(server: Server) -> tuple[float, float, float]:
    """CPU seconds so far of the launcher, MMS's Java frontend, and the Python backend with its workers."""
    split = [0.0, 0.0, 0.0]
    for process in server.tree():
        try:
            times = process.cpu_times()
            role = (
                0
                if server.process is not None and process.pid == server.process.pid
                else 1
                if "java" in process.name()
                else 2
            )
        except psutil.Error:
            continue
        split[role] += times.user + times.system
    return split[0], split[1], split[2]


def audit_lines(server: Server) -> int:
    return server.log_text().count(AUDIT_MARK)


def measure_server(args: argparse.Namespace, mode: str, round_: int, workdir: Path, lock: HostLock) -> list[Run]:
    metadata = read_metadata(args.model_dir / "model_metadata.json")
    (request,) = [kind for kind in request_types(metadata) if kind.name == args.request]
    body = workdir / "body"
    body.write_bytes(request.body)
    lock.acquire()
    server = Server(workdir / f"{mode}-{round_}", {"MODEL_DIR": str(args.model_dir), **MODES[mode]})
    runs = []
    try:
        server.start()
        problem = check_answer(server.url, request)
        if problem is not None:
            raise RuntimeError(f"{mode}: {problem}")
        run_wrk(server.url, body, request.content_type, request.accept, max(args.concurrency), args.warmup)
        for concurrency in args.concurrency:
            tries = [measure_cell(args, server, request, body, mode, round_, concurrency)]
            while tries[-1].foreign_cores > NOISY_CORES and len(tries) <= args.retries:
                tries.append(measure_cell(args, server, request, body, mode, round_, concurrency))
            runs.append(min(tries, key=lambda run: run.foreign_cores))  # the least disturbed
            print(f"[bench.audit] {runs[-1]}", file=sys.stderr, flush=True)
    finally:
        if server.process is not None:
            server.terminate()
        lock.release()
    return runs


def measure_cell(
    args: argparse.Namespace, server: Server, request: RequestType, body: Path, mode: str, round_: int, concurrency: int
) -> Run:
    invoke(server.url, request)  # the previous cell's queued requests are answered: an idle start
    lines, cpu, noise = audit_lines(server), server_cpu_seconds(server), Noise().start()
    result = run_wrk(server.url, body, request.content_type, request.accept, concurrency, args.duration)
    invoke(server.url, request)
    launcher, java, python = (end - start for start, end in zip(cpu, server_cpu_seconds(server), strict=True))
    answered = result.requests + 1
    return Run(
        mode,
        round_,
        concurrency,
        result.req_per_s,
        result.p50_ms,
        (launcher + java + python) / answered * 1e6,
        (launcher / answered * 1e6, java / answered * 1e6, python / answered * 1e6),
        (audit_lines(server) - lines) / answered,
        round(noise.cores(), 3),
    )


def render(runs: list[Run], modes: list[str], concurrencies: list[int]) -> str:
    def figures(mode: str, concurrency: int) -> list[Run]:
        return [run for run in runs if run.mode == mode and run.concurrency == concurrency]

    def ratio(mode: str, concurrency: int, field: str) -> float:
        base = {run.round: getattr(run, field) for run in figures("off", concurrency)}
        return statistics.median(getattr(run, field) / base[run.round] for run in figures(mode, concurrency))

    header = "mode    c  req/s  vs off  p50 ms  CPU us/req  vs off  launcher/Java/Python us  lines/req  other cores"
    rows = [header]
    for concurrency in concurrencies:
        for mode in modes:
            mine = figures(mode, concurrency)
            split = "/".join(f"{statistics.median(r.launcher_java_python_us[i] for r in mine):.0f}" for i in range(3))
            rows.append(
                f"{mode:6} {concurrency:2} {statistics.median(r.req_per_s for r in mine):6.0f}"
                f"  {ratio(mode, concurrency, 'req_per_s'):5.2f}x"
                f"  {statistics.median(r.p50_ms for r in mine):6.3f}"
                f"  {statistics.median(r.cpu_us_per_request for r in mine):10.0f}"
                f"  {ratio(mode, concurrency, 'cpu_us_per_request'):5.2f}x"
                f"  {split:>23}"
                f"  {statistics.median(r.audit_lines_per_request for r in mine):9.3f}"
                f"  {max(r.foreign_cores for r in mine):11.2f}"
            )
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="approval-odds-bench-audit-"))
    lock = HostLock()
    runs: list[Run] = []
    for round_ in range(args.rounds):
        for mode in args.modes:  # alternated: a slow spell of the shared host spreads over every mode
            runs += measure_server(args, mode, round_, workdir, lock)
    print(render(runs, args.modes, args.concurrency))
    if args.out is not None:
        args.out.write_text(json.dumps([run.__dict__ for run in runs], indent=2))
    print(f"server logs in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
