#!/usr/bin/env bash
# Build the MMS endpoint plugins (plugins/<name>/) into build/plugins/<name>.jar.
#
# Each plugin directory holds src/ (Java sources) and resources/ (META-INF/services/... naming its endpoint
# classes, which MMS finds with java.util.ServiceLoader). The plugin SDK ships inside model-server.jar in the
# multi-model-server wheel, so nothing is downloaded.
#
# Usage: scripts/build_plugins.sh [VENV]   (default: .venv of this repository; the Dockerfile passes its own)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$repo/.venv}"
sdk_jar="$venv/lib/python3.11/site-packages/mms/frontend/model-server.jar"
out="$repo/build/plugins"
classes="$repo/build/plugin-classes"

if [[ ! -f "$sdk_jar" ]]; then
    echo "build_plugins: $sdk_jar not found (install multi-model-server into $venv first)" >&2
    exit 1
fi

rm -rf "$classes"
mkdir -p "$out"
for plugin in "$repo"/plugins/*/; do
    name="$(basename "$plugin")"
    mapfile -t sources < <(find "$plugin/src" -name '*.java' | sort)
    mkdir -p "$classes/$name"
    # --release 17: the image runs openjdk-17-jre-headless.
    # -encoding: sources are UTF-8, and a minimal image has no locale to tell javac so.
    javac --release 17 -encoding UTF-8 -Xlint:all,-processing -Werror -cp "$sdk_jar" -d "$classes/$name" "${sources[@]}"
    cp -r "$plugin/resources/." "$classes/$name/"
    # Replace the jar in one rename: a running MMS keeps the one it opened.
    jar --create --file "$out/.$name.jar.tmp" -C "$classes/$name" .
    mv -f "$out/.$name.jar.tmp" "$out/$name.jar"
    echo "built $out/$name.jar"
done
rm -rf "$classes"
