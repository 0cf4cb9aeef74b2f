#!/usr/bin/env bash
# podman with this project's storage and host workarounds (see scripts/podman_env.sh); arguments pass through.
set -euo pipefail
# shellcheck source=scripts/podman_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/podman_env.sh"
exec podman "$@"
