"""The model's own format and scoring: artefact, metadata, features, catalogue, engines."""
