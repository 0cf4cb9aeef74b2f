"""Errors of the model's own files: an artefact or a card catalogue that cannot be served."""

from __future__ import annotations


class ArtifactError(ValueError):
    """The model directory cannot be served: one clear sentence saying what is wrong."""


class CatalogError(ValueError):
    """A card catalogue that must not be served, with the reason (never the file's contents)."""
