"""Assertions for refused requests: the call raises a RequestError with this status and code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from handler.errors import RequestError


def rejection(call: Callable[..., Any], *args: Any, status: int = 400, code: str) -> RequestError:
    with pytest.raises(RequestError) as caught:
        call(*args)
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.message
    return caught.value


def details(error: RequestError) -> list[tuple[int | None, str | None, str]]:
    return [(detail.row, detail.field, detail.problem) for detail in error.details]
