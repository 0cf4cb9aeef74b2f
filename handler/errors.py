"""Domain errors that carry their HTTP status and a stable code, turned into responses in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_DETAILS = 20


@dataclass(frozen=True)
class Detail:
    """One problem in a request: the 1-based applicant row (None for the request as a whole) and field."""

    problem: str
    row: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "problem": self.problem}


@dataclass
class RequestError(Exception):
    """A request the service refuses: 4xx with a JSON body that names what was wrong."""

    status: int
    code: str
    message: str
    details: list[Detail] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        shown = [detail.as_dict() for detail in self.details[:MAX_DETAILS]]
        error: dict[str, Any] = {"code": self.code, "message": self.message, "details": shown}
        if len(self.details) > MAX_DETAILS:
            error["more_details"] = len(self.details) - MAX_DETAILS
        return {"error": error}


def bad_request(code: str, message: str, details: list[Detail] | None = None) -> RequestError:
    return RequestError(400, code, message, details or [])


def response_too_large(size: int, limit: int, applicants: int, cards: int) -> RequestError:
    """A response over what MMS can carry (a huge batch request times many cards): the caller must split it."""
    return RequestError(
        413,
        "response_too_large",
        f"the response for {applicants:,} applicants x {cards} cards would be {size / 2**20:,.1f} MB, over the "
        f"{limit / 2**20:,.0f} MB a response can carry: send fewer lines per request (a smaller MaxPayloadInMB) "
        "or score fewer cards (DEFAULT_CARDS, or the cards option)",
    )


INTERNAL_ERROR = RequestError(500, "internal_error", "The server failed to score this request; it has been logged.")
