"""Benchmark suite (issue 7): our server against the classic nginx + gunicorn + flask stack, MMS's own ceiling and
the in-process floor. Development tooling only; nothing here is imported by the product."""
