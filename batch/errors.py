"""The one error a transform job stops with: its message is printed to the user as is."""

from __future__ import annotations


class TransformError(Exception):
    """The job cannot go on (a line over the payload limit, a refused request, output that does not line up)."""
