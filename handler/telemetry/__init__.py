"""Metrics of the worker: counters, EMF lines, Prometheus snapshots and their publisher."""
