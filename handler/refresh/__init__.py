"""Keeping the card catalogue fresh: S3 source, last-good cache, live store, refresher, control files."""
