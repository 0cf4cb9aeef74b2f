"""One-off requests: readiness (the first successful invocation) and a correctness probe before load."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from bench.workload import CSV, RequestType


def invoke(url: str, request: RequestType, timeout: float = 600.0) -> requests.Response:
    headers = {"Content-Type": request.content_type, "Accept": request.accept}
    return requests.post(url + "/invocations", data=request.body, headers=headers, timeout=timeout)


def wait_until_scores(url: str, request: RequestType, timeout: float, alive: Callable[[], bool]) -> None:
    """Poll until an invocation answers 200. Raises if the server dies or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("server exited before its first successful invocation")
        try:
            if invoke(url, request, timeout=max(0.1, deadline - time.monotonic())).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.02)
    raise TimeoutError(f"no successful invocation within {timeout} s")


def check_answer(url: str, request: RequestType, per_applicant: bool = True) -> str | None:
    """None when the server answers this request with 200 (and, if per_applicant, one CSV line per applicant),
    else what is wrong."""
    answer = invoke(url, request, timeout=120)
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}: {answer.text[:200]}"
    if per_applicant and request.accept == CSV:
        lines = answer.content.count(b"\n") + 1
        if lines != request.applicants:
            return f"{lines} CSV lines for {request.applicants} applicants"
    return None
