#!/usr/bin/env bash
# TEST-ONLY base image: there is no registry here, so build debian:bookworm-slim locally with debootstrap
# (minbase) from the apt mirror this machine already uses, import it into podman and tag it with the name the
# Dockerfile's FROM uses. Skips the work when the tag already exists (pass --force to rebuild).
#
# This base trusts the host's CA bundle and tells pip to use it, because HTTPS from build steps on this host is
# re-signed by a local CA. That workaround lives only here, never in the Dockerfile.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/podman_env.sh
source "$repo_root/scripts/podman_env.sh"

base_tag="docker.io/library/debian:bookworm-slim"
force=0
[[ "${1:-}" == "--force" ]] && force=1

if ((!force)) && podman image exists "$base_tag"; then
    echo "base image $base_tag already present"
    exit 0
fi

# Read the mirror at run time: its name must not be written into the repository.
mirror="$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' |
    head -n 1 || true)"
if [[ -z "$mirror" ]]; then
    mirror="$(grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' |
        grep -v -- '-security' | head -n 1 || true)"
fi
if [[ -z "$mirror" ]]; then
    echo "container_base.sh: no apt mirror found in /etc/apt/sources.list.d or /etc/apt/sources.list" >&2
    exit 1
fi

rootfs="$CONTAINER_WORK_DIR/rootfs"
tarball="$CONTAINER_WORK_DIR/bookworm-slim.tar"
rm -rf "$rootfs" "$tarball"
echo "debootstrap bookworm (minbase) into $rootfs"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CONTAINER_WORK_DIR/debootstrap.log" 2>&1 || {
    tail -n 30 "$CONTAINER_WORK_DIR/debootstrap.log" >&2
    exit 1
}

# Same mirror as the host for apt-get inside build steps, as deb822 like the real slim image.
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -f "$rootfs/etc/apt/sources.list"

# Test-only trust: the host's CA bundle (with any local CA) and pip told to use it.
mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
if [[ -f /etc/pip.conf ]]; then
    # Carry over the host's package index settings (read at run time, like the mirror).
    grep -E '^(index-url|extra-index-url|trusted-host)' /etc/pip.conf >>"$rootfs/etc/pip.conf" || true
fi

# Slim like the real image: no apt lists or caches, no docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

tar -C "$rootfs" -cf "$tarball" .
podman import --quiet "$tarball" "$base_tag" >/dev/null
rm -rf "$rootfs" "$tarball"
echo "imported $base_tag ($(podman image inspect --format '{{.Size}}' "$base_tag") bytes)"
