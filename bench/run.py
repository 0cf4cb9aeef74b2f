"""`make bench` (issue 7, and issue 5's batch figure): in one invocation, measure

- ours: `entrypoint.py serve` (MMS + our handler), and its cold start;
- reference: nginx -> gunicorn (2 sync workers) -> flask, the original system's pattern (bench/reference/);
- ceiling: our MMS set-up with a handler that does no work;
- floor: the same bodies decoded, scored and encoded in this process;

with wrk on loopback, and print one table (plus JSON under build/bench/). Then rows/s for one 100,000-applicant
CSV through a batch-configured server against the in-process floor on the same rows, and the engine rows
(bench/engines.py): per model shape (demo, depth 6, 1,000 trees) the engine chosen against sklearn.

Usage: .venv/bin/python -m bench.run [--quick] [--duration S] [--model-dir DIR] [--batch-rows N] [--no-engines]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import engines
from bench.floor import Floor, best_of
from bench.harness import HostLock, Server
from bench.load import CellResult, run_wrk
from bench.noise import Noise
from bench.probe import check_answer, invoke, wait_until_scores
from bench.reference_server import ReferenceServer
from bench.report import CEILING, OURS, REFERENCE, SERVERS, Batch, Cell, Report, as_json, render
from bench.servers import CeilingServer
from bench.workload import CSV, RequestType, csv_body, request_types
from config.settings import DEMO_MODEL_DIR, REPO_ROOT
from handler.model.metadata import ModelMetadata, read_metadata

DEFAULT_MODEL_DIR = DEMO_MODEL_DIR
OUT_DIR = REPO_ROOT / "build" / "bench"
START_TIMEOUT_S = 120.0
QUIET_CPU_PERCENT = 15.0
# Issue 5: batch transform requests go up to 100 MB; the server must be configured for them.
BATCH_ENV = {"SAGEMAKER_BATCH": "true", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "100"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="default: build/demo-model")
    parser.add_argument("--duration", type=int, default=6, help="seconds of load per cell (default 6)")
    # The JVM compiles MMS's hot paths during the first seconds of load: 1 s left C2 busy for the first cells.
    parser.add_argument("--warmup", type=int, default=5, help="seconds of discarded load per server and request")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated connection counts")
    parser.add_argument("--servers", default=",".join(SERVERS), help="subset of ours,reference,ceiling")
    parser.add_argument("--requests", help="comma-separated subset of the request types (default: all)")
    parser.add_argument("--batch-rows", type=int, default=100_000, help="applicants in the batch request; 0 skips")
    parser.add_argument("--batch-repeats", type=int, default=3, help="timed batch requests (best counts)")
    parser.add_argument("--settle", type=float, default=60.0, help="max seconds to wait for an idle host per phase")
    parser.add_argument("--retries", type=int, default=2, help="re-runs of a cell other processes disturbed")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 1 s cells, a 10,000-row batch")
    parser.add_argument("--no-engines", action="store_true", help="skip the engine rows per model shape")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the JSON results go")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.batch_rows, args.batch_repeats = 1, 1, min(args.batch_rows, 10_000), 1
        args.retries = 0
    args.concurrency = [int(value) for value in args.concurrency.split(",")]
    args.servers = [name.strip() for name in args.servers.split(",")]
    unknown = set(args.servers) - set(SERVERS)
    if unknown or args.duration < 1 or args.warmup < 0 or min(args.concurrency) < 1:
        parser.error(f"bad --servers {sorted(unknown)}, --duration, --warmup or --concurrency")
    return args


def missing_tools() -> list[str]:
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        missing.append("gunicorn")
    return missing


class Bench:
    def __init__(self, args: argparse.Namespace, metadata: ModelMetadata, workdir: Path) -> None:
        self.args = args
        self.metadata = metadata
        self.workdir = workdir
        chosen = args.requests.split(",") if args.requests else None
        self.requests = [request for request in request_types(metadata) if chosen is None or request.name in chosen]
        self.lock = HostLock()
        self.report = Report(
            request_names=[request.name for request in self.requests],
            descriptions={request.name: request.description for request in self.requests},
            concurrencies=args.concurrency,
            context=run_context(args, metadata),
        )
        self.bodies = {}
        for request in self.requests:
            self.bodies[request.name] = workdir / f"{request.name}.body"
            self.bodies[request.name].write_bytes(request.body)
        self.floor: Floor | None = None

    def run(self) -> Report:
        self.measure_floors()
        phases: dict[str, Callable[[], contextlib.AbstractContextManager[str]]] = {
            OURS: lambda: self.mms(OURS, Server, {}),
            REFERENCE: self.reference,
            CEILING: lambda: self.mms(CEILING, CeilingServer, {}),
        }
        for name in self.args.servers:
            self.note_load(name)
            try:
                with phases[name]() as url:
                    self.measure(name, url)
            except Exception as error:  # one broken server must not cost the others' figures
                self.fail(name, error)
        if self.args.batch_rows > 0 and OURS in self.args.servers:
            self.note_load("batch")
            self.measure_batch()
        return self.report

    def note_load(self, phase: str) -> None:
        """Wait (bounded) for other work on the host to stop, and record how busy the host was: figures taken
        while something else runs are not comparable."""
        busy = host_cpu_percent()
        deadline = time.monotonic() + self.args.settle
        while busy > QUIET_CPU_PERCENT and time.monotonic() < deadline:
            busy = host_cpu_percent()
        self.report.context.setdefault("host_cpu_percent_before", {})[phase] = busy
        quiet = "" if busy <= QUIET_CPU_PERCENT else "  WARNING: host busy, figures are noisy"
        print(f"[bench] {phase} (host CPU {busy:.0f}% busy before){quiet}", file=sys.stderr, flush=True)

    def measure_floors(self) -> None:
        try:
            self.floor = Floor(self.args.model_dir)
            for request in self.requests:
                self.report.floors[request.name] = self.floor.seconds(request, budget_s=1.0 if self.args.quick else 3.0)
        except Exception as error:  # the product may not import yet; the other figures still stand
            self.report.floor_error = f"{type(error).__name__}: {error}"

    @contextlib.contextmanager
    def mms(self, name: str, kind: type[Server], env: dict[str, str]) -> Iterator[str]:
        """One MMS server (ours or the ceiling) under the host-wide lock; records its cold start."""
        print(f"[bench] {name}: waiting for the host-wide MMS lock", file=sys.stderr, flush=True)
        self.lock.acquire()
        server = kind(self.workdir / name, {"MODEL_DIR": str(self.args.model_dir), **env})
        try:
            started = time.monotonic()
            server.start(wait=False)
            alive = lambda: server.process is not None and server.process.poll() is None  # noqa: E731
            try:
                wait_until_scores(server.url, self.requests[0], START_TIMEOUT_S, alive)
            except (RuntimeError, TimeoutError) as error:
                raise RuntimeError(f"{error}; log: {server.log_path}\n{server.log_text()[-1500:]}") from None
            self.report.cold_starts[name] = time.monotonic() - started
            server.wait_ready(START_TIMEOUT_S)  # every worker has its model, not just the first
            yield server.url
        finally:
            try:
                if server.process is not None:
                    server.terminate()
            finally:
                self.lock.release()

    @contextlib.contextmanager
    def reference(self) -> Iterator[str]:
        server = ReferenceServer(self.workdir / REFERENCE, self.args.model_dir)
        try:
            server.start(START_TIMEOUT_S)
            wait_until_scores(server.url, self.requests[0], START_TIMEOUT_S, server.alive)
            yield server.url
        finally:
            server.stop()

    def measure(self, server: str, url: str) -> None:
        for request in self.requests:
            if request.ours_only and server != OURS:
                continue
            problem = check_answer(url, request, per_applicant=server != CEILING)  # the null handler scores nothing
            if problem is not None:  # never benchmark a server that answers with errors
                for concurrency in self.args.concurrency:
                    self.report.cells.append(Cell(server, request.name, concurrency, error=problem))
                continue
            if self.args.warmup:
                self.wrk(url, request, max(self.args.concurrency), self.args.warmup)
            for concurrency in self.args.concurrency:
                try:
                    cell = self.measure_cell(server, url, request, concurrency)
                except Exception as error:
                    cell = Cell(server, request.name, concurrency, error=str(error))
                self.report.cells.append(cell)
                noise = "" if cell.foreign_cores is None else f" (other processes: {cell.foreign_cores:.2f} cores)"
                print(f"[bench] {server} {request.name} c={concurrency} done{noise}", file=sys.stderr, flush=True)

    def measure_cell(self, server: str, url: str, request: RequestType, concurrency: int) -> Cell:
        """The cell's least disturbed of up to 1 + --retries wrk runs (others' CPU use taints a run)."""
        best: Cell | None = None
        for _ in range(1 + self.args.retries):
            noise = Noise().start()
            result = self.wrk(url, request, concurrency, self.args.duration)
            cell = Cell(server, request.name, concurrency, result, foreign_cores=round(noise.cores(), 3))
            if result.requests == 0:
                cell = Cell(server, request.name, concurrency, error="no request completed in the cell")
            if best is None or (cell.foreign_cores or 0) < (best.foreign_cores or 0):
                best = cell
            if not best.noisy:
                break
        assert best is not None
        return best

    def wrk(self, url: str, request: RequestType, concurrency: int, seconds: int) -> CellResult:
        body = self.bodies[request.name]
        result = run_wrk(url, body, request.content_type, request.accept, concurrency, seconds)
        # wrk leaves its last requests queued in the server; one answered request means the backlog is gone and
        # the next cell starts on an idle server.
        invoke(url, request, timeout=120)
        return result

    def fail(self, server: str, error: Exception) -> None:
        measured = {(cell.request, cell.concurrency) for cell in self.report.cells if cell.server == server}
        reason = f"{type(error).__name__}: {error}".strip()
        print(f"[bench] {server} failed: {reason}", file=sys.stderr, flush=True)
        for request in self.requests:
            for concurrency in self.args.concurrency:
                if (request.name, concurrency) not in measured:
                    self.report.cells.append(Cell(server, request.name, concurrency, error=reason.splitlines()[0]))

    def measure_batch(self) -> None:
        rows = self.args.batch_rows
        body = csv_body(self.metadata, rows, seed=11)
        request = RequestType("batch", f"{rows:,} applicants, CSV", body, CSV, CSV, rows)
        server_seconds = floor_seconds = None
        error = None
        try:
            with self.mms("batch server", Server, BATCH_ENV) as url:
                problem = check_answer(url, request)  # also the warm-up
                if problem is not None:
                    raise RuntimeError(problem)
                server_seconds = best_of(lambda: ok(invoke(url, request)), self.args.batch_repeats, budget_s=60.0)
            floor = self.floor
            if floor is not None:
                floor_seconds = best_of(lambda: floor.score(request), self.args.batch_repeats, budget_s=60.0)
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}".splitlines()[0]
        self.report.batch = Batch(rows, len(body) / 1e6, server_seconds, floor_seconds, error)


def host_cpu_percent() -> float:
    return psutil.cpu_percent(interval=1.0)


def ok(answer: object) -> None:
    status = getattr(answer, "status_code", None)
    if status != 200:
        raise RuntimeError(f"batch request answered HTTP {status}")


def run_context(args: argparse.Namespace, metadata: ModelMetadata) -> dict[str, object]:
    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain")),
        "cpus": os.cpu_count(),
        "model_dir": str(args.model_dir),
        "model_version": metadata.model_version,
        "seconds_per_cell": args.duration,
        "warmup_seconds": args.warmup,
        "load_tool": "wrk, 1 thread, keep-alive, loopback",
        "workers": {"ours": 2, "reference": "2 gunicorn sync", "ceiling": 2},
    }


def write_results(report: Report, table: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    data = json.dumps(as_json(report), indent=2)
    path = out_dir / f"bench-{stamp}.json"
    path.write_text(data)
    (out_dir / "latest.json").write_text(data)
    (out_dir / "latest.txt").write_text(table + "\n")
    return path


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"bench: missing {', '.join(missing)}: run bash bench/install_tools.sh", file=sys.stderr)
        return 2
    if not (args.model_dir / "model_metadata.json").is_file():
        print(f"bench: no model in {args.model_dir}: run make demo-model or pass --model-dir", file=sys.stderr)
        return 2
    metadata = read_metadata(args.model_dir / "model_metadata.json")
    os.environ["MODEL_DIR"] = str(args.model_dir)  # the in-process floor reads its settings as a worker does
    workdir = Path(tempfile.mkdtemp(prefix="approval-odds-bench-"))
    report = Bench(args, metadata, workdir).run()
    table = render(report)
    if not args.no_engines:
        engine_rows, engine_table = engines.run(args.quick)
        report.context["engines"] = engines.as_json(engine_rows)
        table += "\n\n" + engine_table
    print(table)
    print(f"\nresults: {write_results(report, table, args.out)}")
    failed = any(cell.error for cell in report.cells) or report.floor_error or (report.batch and report.batch.error)
    if failed:
        print(f"server logs kept in {workdir}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
