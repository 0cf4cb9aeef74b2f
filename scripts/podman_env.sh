# Sourced (not run) by the container scripts: points podman at private storage and at a config that works on
# hosts like CI's (hybrid cgroups, low hard rlimits, no systemd). Exports CONTAINER_WORK_DIR,
# CONTAINERS_CONF and CONTAINERS_STORAGE_CONF; writes the two config files on first use.
# shellcheck shell=bash

CONTAINER_WORK_DIR="${CONTAINER_WORK_DIR:-/var/tmp/approval-odds-podman}"
mkdir -p "$CONTAINER_WORK_DIR"
export CONTAINER_WORK_DIR
export CONTAINERS_CONF="$CONTAINER_WORK_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$CONTAINER_WORK_DIR/storage.conf"

# Regenerated every time: the host's hard nofile limit can differ between machines sharing a work dir.
nofile_limit="$(ulimit -Hn)"
cat >"$CONTAINERS_CONF" <<CONF
[containers]
# Podman's default rlimits exceed this host's hard limits ("setrlimit RLIMIT_NOFILE: Operation not permitted").
default_ulimits = ["nofile=${nofile_limit}:${nofile_limit}", "nproc=32768:32768"]

[engine]
# crun refuses hybrid cgroup layouts; runc handles them. No systemd as PID 1, so no systemd cgroups/journald.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
# The Debian package also ships a CNI config but no CNI plugins; netavark is the one installed.
network_backend = "netavark"
CONF
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$CONTAINER_WORK_DIR/storage"
runroot = "$CONTAINER_WORK_DIR/run"
CONF
unset nofile_limit
