"""Which MMS endpoint plugins the repository defines (plugins/<name>/) and which of them are not built.

MMS loads plugins from build/plugins/<name>.jar (scripts/build_plugins.sh, `make plugins`). Without a jar it starts
all the same and answers 404 on that plugin's routes, so the launcher names them once at start. The image builds
every jar and ships no sources, so there the check finds nothing to compare.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from config.settings import REPO_ROOT

SOURCES_DIR = REPO_ROOT / "plugins"
BUILT_DIR = REPO_ROOT / "build" / "plugins"
BUILD_COMMAND = "make plugins"
# The route a plugin serves, as its Java source declares it: @Endpoint(urlPattern = "updateccdata", ...).
URL_PATTERN = re.compile(r'@Endpoint\s*\([^)]*?urlPattern\s*=\s*"([^"]+)"', re.S)

log = logging.getLogger("serving.plugins")


@dataclass(frozen=True)
class Plugin:
    name: str
    routes: tuple[str, ...]  # "/updateccdata", ...


def defined(sources: Path = SOURCES_DIR) -> list[Plugin]:
    """Every plugins/<name>/ directory, with the routes its sources declare."""
    plugins = []
    for directory in sorted(path for path in sources.glob("*/") if path.is_dir()):
        found = (URL_PATTERN.findall(java.read_text(encoding="utf-8")) for java in sorted(directory.rglob("*.java")))
        plugins.append(Plugin(directory.name, tuple(f"/{route}" for routes in found for route in routes)))
    return plugins


def unbuilt(sources: Path = SOURCES_DIR, built: Path = BUILT_DIR) -> list[Plugin]:
    return [plugin for plugin in defined(sources) if not (built / f"{plugin.name}.jar").is_file()]


def warn_if_unbuilt(sources: Path = SOURCES_DIR, built: Path = BUILT_DIR) -> list[Plugin]:
    """One warning naming the routes MMS will not serve and the command that builds them; the missing plugins."""
    missing = unbuilt(sources, built)
    if missing:
        routes = [route for plugin in missing for route in plugin.routes or (f"plugin {plugin.name}",)]
        log.warning(
            f"MMS endpoint plugins not built: {', '.join(routes)} will answer 404; build them with `{BUILD_COMMAND}`",
            extra={"missing_routes": routes, "build_command": BUILD_COMMAND, "plugins_dir": str(built)},
        )
    return missing
