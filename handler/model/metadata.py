"""model_metadata.json: the contract between a trained estimator and the server (schema version 1)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from handler.model.errors import ArtifactError
from handler.model.reason_codes import parse_reason_codes

SCHEMA_VERSION = 1
# scikit-learn's trees compare float32(x): a bound beyond float32's range (or none) would admit values the estimator
# sees as infinite, on which the engines disagree (sklearn even refuses them).
FLOAT32_MAX = float(np.finfo(np.float32).max)
FEATURE_TYPES = ("number", "boolean")
RESERVED_APPLICANT_FIELDS = ("applicant_id",)


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    type: str  # "number" | "boolean"
    required: bool = True
    min: float | None = None
    max: float | None = None
    description: str = ""
    default: float | None = None  # used when an optional feature is absent

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> FeatureSpec:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise ArtifactError(f"model_metadata.json: every entry of {where} needs a non-empty 'name'")
        name = raw["name"]
        kind = raw.get("type")
        if kind not in FEATURE_TYPES:
            raise ArtifactError(f"model_metadata.json: {where} '{name}' has type {kind!r}, expected number or boolean")
        bounds = {key: raw.get(key) for key in ("min", "max", "default")}
        for key, value in bounds.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            ):
                raise ArtifactError(f"model_metadata.json: {where} '{name}' has a non-numeric {key}")
        if kind == "number":
            _check_range(bounds, f"model_metadata.json: {where} '{name}'")
        if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
            raise ArtifactError(f"model_metadata.json: {where} '{name}' has min > max")
        required = raw.get("required", True)
        if not isinstance(required, bool):
            raise ArtifactError(f"model_metadata.json: {where} '{name}' has a non-boolean 'required'")
        if not required and bounds["default"] is None:
            raise ArtifactError(f"model_metadata.json: optional {where} '{name}' needs a 'default'")
        return cls(
            name=name,
            type=kind,
            required=required,
            min=bounds["min"],
            max=bounds["max"],
            description=str(raw.get("description", "")),
            default=bounds["default"],
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "min": self.min,
            "max": self.max,
            "description": self.description,
        }
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class ModelMetadata:
    schema_version: int
    model_version: str
    created_at: str
    sklearn_version: str
    applicant_features: tuple[FeatureSpec, ...]
    card_features: tuple[FeatureSpec, ...]
    feature_order: tuple[str, ...]
    card_id_column: str
    metrics: dict[str, Any]
    training_data: dict[str, Any]
    reason_codes: dict[str, Any] = field(default_factory=dict)  # explicit entries only: handler/model/reason_codes.py

    @property
    def applicant_feature_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.applicant_features)

    @property
    def card_feature_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.card_features)

    @classmethod
    def from_dict(cls, raw: Any) -> ModelMetadata:
        if not isinstance(raw, dict):
            raise ArtifactError("model_metadata.json must hold a JSON object")
        version = raw.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ArtifactError(
                f"model_metadata.json has schema_version {version!r}; this server reads schema_version {SCHEMA_VERSION}"
            )
        for key in ("model_version", "created_at", "sklearn_version", "card_id_column"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ArtifactError(f"model_metadata.json: '{key}' must be a non-empty string")
        applicant = _feature_list(raw, "applicant_features")
        card = _feature_list(raw, "card_features")
        names = [spec.name for spec in applicant + card]
        if len(set(names)) != len(names):
            raise ArtifactError("model_metadata.json: feature names repeat across applicant_features and card_features")
        clash = set(names) & {raw["card_id_column"], *RESERVED_APPLICANT_FIELDS}
        if clash:
            raise ArtifactError(f"model_metadata.json: feature name(s) {sorted(clash)} are reserved")
        order = raw.get("feature_order")
        if not isinstance(order, list) or sorted(order) != sorted(names):
            raise ArtifactError(
                "model_metadata.json: feature_order must list every applicant and card feature exactly once"
            )
        for key in ("metrics", "training_data"):
            if not isinstance(raw.get(key), dict):
                raise ArtifactError(f"model_metadata.json: '{key}' must be a JSON object")
        return cls(
            schema_version=version,
            model_version=raw["model_version"],
            created_at=raw["created_at"],
            sklearn_version=raw["sklearn_version"],
            applicant_features=applicant,
            card_features=card,
            feature_order=tuple(order),
            card_id_column=raw["card_id_column"],
            metrics=raw["metrics"],
            training_data=raw["training_data"],
            reason_codes=parse_reason_codes(raw.get("reason_codes"), applicant, card),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "model_version": self.model_version,
            "created_at": self.created_at,
            "sklearn_version": self.sklearn_version,
            "applicant_features": [spec.as_dict() for spec in self.applicant_features],
            "card_features": [spec.as_dict() for spec in self.card_features],
            "feature_order": list(self.feature_order),
            "card_id_column": self.card_id_column,
            "metrics": self.metrics,
            "training_data": self.training_data,
        } | ({"reason_codes": self.reason_codes} if self.reason_codes else {})


def _check_range(bounds: dict[str, Any], what: str) -> None:
    """A number feature's min and max: both given, within float32's range; its default (if any) between them."""
    for key in ("min", "max"):
        value = bounds[key]
        if value is None or abs(value) > FLOAT32_MAX:
            raise ArtifactError(
                f"{what} needs a finite '{key}' within float32's range (±{FLOAT32_MAX:.7g}), the values the "
                f"estimator can compare; it has {key} {json.dumps(value)}"
            )
    default = bounds["default"]
    if default is not None and not bounds["min"] <= default <= bounds["max"]:
        raise ArtifactError(f"{what} has a default {default!r} outside its [min, max]")


def _feature_list(raw: dict[str, Any], key: str) -> tuple[FeatureSpec, ...]:
    entries = raw.get(key)
    if not isinstance(entries, list) or not entries:
        raise ArtifactError(f"model_metadata.json: '{key}' must be a non-empty list")
    return tuple(FeatureSpec.from_dict(entry, key.removesuffix("s").replace("_", " ")) for entry in entries)


def read_metadata(path: Path) -> ModelMetadata:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path.name} is missing from the model directory {path.parent}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path.name} is not valid UTF-8 JSON: {exc}") from None
    return ModelMetadata.from_dict(raw)
