#!/usr/bin/env bash
# Tools the benchmark needs and the image does not: nginx and wrk (Debian) for the reference stack and the
# load, gunicorn and flask (PyPI, into the project venv) for the reference server. Idempotent: installs only
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
GUNICORN_PIN=gunicorn==27.0.1
FLASK_PIN=flask==3.1.3

missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system nginx on port 80 where a service manager runs; the bench never uses it.

if ! "$PY" -c 'import gunicorn, flask' 2>/dev/null; then
    "$PY" -m pip install --quiet --disable-pip-version-check "$GUNICORN_PIN" "$FLASK_PIN"
fi
