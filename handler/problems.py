"""Problems found while decoding a request, collected over all rows and raised as one 400.

Texts name the row, field and rule, never the value: request values are personal data and error messages may be
logged. Rows are 0-based here and 1-based in the response (the applicant's position in the request).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from handler.errors import Detail, RequestError, bad_request

# When several kinds of problem occur, the error's code is the first of these present (details list them all).
CODE_PRIORITY = (
    "invalid_json",
    "invalid_csv",
    "unknown_field",
    "missing_field",
    "invalid_value",
    "out_of_range",
)


class Problem(NamedTuple):
    code: str
    row: int | None  # 0-based applicant position; None for the request as a whole (a header, a top-level key)
    field: str | None
    text: str


def reject(problems: Sequence[Problem]) -> RequestError:
    """One 400 listing every problem in row order; its code is the most basic kind of problem found."""
    ordered = sorted(problems, key=lambda problem: -1 if problem.row is None else problem.row)
    codes = {problem.code for problem in ordered}
    code = next(code for code in (*CODE_PRIORITY, *sorted(codes)) if code in codes)
    more = f" (and {len(ordered) - 1} more problem(s), see details)" if len(ordered) > 1 else ""
    details = [
        Detail(problem.text, row=None if problem.row is None else problem.row + 1, field=problem.field)
        for problem in ordered
    ]
    return bad_request(code, f"{_describe(ordered[0])}{more}", details)


def empty_request(message: str) -> RequestError:
    return bad_request("empty_request", message)


def _describe(problem: Problem) -> str:
    where = [f"applicant {problem.row + 1}"] if problem.row is not None else []
    where += [f"field {problem.field!r}"] if problem.field is not None else []
    return f"{', '.join(where)}: {problem.text}" if where else problem.text
