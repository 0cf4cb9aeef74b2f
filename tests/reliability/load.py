"""Bounded, closed-loop load on the real server: a fixed number of client threads, each sending a mix of requests
(every content type in, every media type out) back to back until told to stop, checking every answer.

Only counts and failures are kept (a 10-minute soak sends hundreds of thousands of requests).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import cycle

import requests

from tests.support.artifacts import applicant

CSV, JSON, JSONL = "text/csv", "application/json", "application/jsonlines"
ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
REQUEST_TIMEOUT_SECONDS = 60
MAX_FAILURES_KEPT = 1000
FEATURES = list(applicant())


@dataclass(frozen=True)
class Request:
    name: str
    body: bytes
    headers: dict[str, str]
    applicants: int
    accept: str
    columns: int | None = None  # CSV answers: values per line (the selected cards)


@dataclass(frozen=True)
class Failure:
    request: str
    started: float  # time.monotonic()
    finished: float
    problem: str


def applicants(n: int, seed: int = 0) -> list[dict]:
    return [
        {
            "applicant_id": f"load-{seed}-{i}",
            **applicant(
                age=21 + (seed + 7 * i) % 70, annual_income=15_000 + 3_700 * ((seed + i) % 40), dependents=i % 4
            ),
        }
        for i in range(n)
    ]


def csv_body(rows: list[dict], header: bool) -> bytes:
    columns = ["applicant_id", *FEATURES] if header else FEATURES
    lines = ([",".join(columns)] if header else []) + [",".join(str(row[c]) for c in columns) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def request(
    name: str, content_type: str, accept: str, rows: list[dict], columns: int | None = None, **extra
) -> Request:
    """A request of `rows` in `content_type`; `extra`: cards/top_k in a JSON body, or attributes= for the header."""
    attributes = extra.pop("attributes", None)
    if content_type == JSON:
        body = json.dumps({"applicants": rows, **extra}).encode()
    elif content_type == JSONL:
        body = "\n".join(json.dumps(row) for row in rows).encode()
    else:
        body = csv_body(rows, header=extra.pop("header", True))
    headers = {"Content-Type": content_type, "Accept": accept, **({ATTRIBUTES: attributes} if attributes else {})}
    return Request(name, body, headers, len(rows), accept, columns)


def standard_mix(active_cards: int, card_ids: list[str], size: int = 10) -> list[Request]:
    """Every content type in and out; card subsets and top_k in the body and in the custom attributes."""
    two = card_ids[:2]
    return [
        request("json>json", JSON, JSON, applicants(size, 1)),
        request("json>csv", JSON, CSV, applicants(size, 2), columns=active_cards),
        request("json>jsonl", JSON, JSONL, applicants(size, 3)),
        request("json+options>json", JSON, JSON, applicants(size, 4), cards=card_ids[:5], top_k=2),
        request("csv>json", CSV, JSON, applicants(size, 5)),
        request("csv(no header)>csv", CSV, CSV, applicants(size, 6), columns=active_cards, header=False),
        request("csv>jsonl", CSV, JSONL, applicants(size, 7), attributes="top_k=3"),
        request("csv+cards>csv", CSV, CSV, applicants(size, 8), columns=2, attributes="cards=" + ",".join(two)),
        request("jsonl>json", JSONL, JSON, applicants(size, 9)),
        request("jsonl>jsonl", JSONL, JSONL, applicants(size, 10)),
        request("jsonl>csv", JSONL, CSV, applicants(size, 11), columns=active_cards),
        request("json(1)>json", JSON, JSON, applicants(1, 12)),
    ]


def problem_with(spec: Request, answer: requests.Response) -> tuple[str | None, str | None]:
    """(what is wrong or None, the catalogue version that scored it if the answer says)."""
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}: {answer.text[:200]}", None
    if not answer.headers.get("Content-Type", "").startswith(spec.accept):
        return f"Content-Type {answer.headers.get('Content-Type')!r}", None
    text = answer.text
    if spec.accept == JSON:
        body = json.loads(text)
        if len(body["results"]) != spec.applicants or not all(result["odds"] for result in body["results"]):
            return "JSON results do not match the applicants", None
        return None, body["catalog_version"]
    lines = text.split("\n")
    if len(lines) != spec.applicants:
        return f"{len(lines)} lines for {spec.applicants} applicants", None
    if spec.accept == CSV and any(len(line.split(",")) != spec.columns for line in lines):
        return f"CSV lines without {spec.columns} values", None
    if spec.accept == JSONL and not all(json.loads(line)["odds"] for line in lines):
        return "a JSON Lines result without odds", None
    return None, None


@dataclass
class Tally:
    sent: int = 0
    ok: int = 0
    by_request: Counter = field(default_factory=Counter)
    versions: Counter = field(default_factory=Counter)  # catalogue versions that scored the JSON answers
    failures: list[Failure] = field(default_factory=list)
    failed: int = 0


class Load:
    """`threads` clients sending `mix` round-robin (each from its own offset) until stop_sending()."""

    def __init__(self, url: str, mix: list[Request], threads: int, pause_seconds: float = 0.0) -> None:
        self.url = url + "/invocations"
        self.mix = mix
        self.pause_seconds = pause_seconds
        self.tally = Tally()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(offset,), name=f"load-{offset}", daemon=True)
            for offset in range(threads)
        ]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop_sending(self) -> None:
        """No new requests from now on; those in flight carry on."""
        self._stop.set()

    def join(self, timeout: float = REQUEST_TIMEOUT_SECONDS + 5) -> bool:
        """Wait for every in-flight request to finish; False if a client is still waiting after `timeout`."""
        self.stop_sending()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def in_flight_after(self, moment: float) -> list[Failure]:
        """Failed requests that were sent at or after `moment` (time.monotonic())."""
        with self._lock:
            return [failure for failure in self.tally.failures if failure.started >= moment]

    def _client(self, offset: int) -> None:
        session = requests.Session()
        mix = cycle(self.mix[offset % len(self.mix) :] + self.mix[: offset % len(self.mix)])
        while not self._stop.is_set():
            spec = next(mix)
            started = time.monotonic()
            try:
                answer = session.post(self.url, data=spec.body, headers=spec.headers, timeout=REQUEST_TIMEOUT_SECONDS)
                problem, version = problem_with(spec, answer)
            except (requests.RequestException, ValueError, KeyError) as error:
                problem, version = f"{type(error).__name__}: {error}", None
                session = requests.Session()  # the connection is gone: start a fresh one
            self._record(spec, started, problem, version)
            if self.pause_seconds:
                self._stop.wait(self.pause_seconds)

    def _record(self, spec: Request, started: float, problem: str | None, version: str | None) -> None:
        with self._lock:
            tally = self.tally
            tally.sent += 1
            tally.by_request[spec.name] += 1
            if version is not None:
                tally.versions[version] += 1
            if problem is None:
                tally.ok += 1
                return
            tally.failed += 1
            if len(tally.failures) < MAX_FAILURES_KEPT:
                tally.failures.append(Failure(spec.name, started, time.monotonic(), problem))
