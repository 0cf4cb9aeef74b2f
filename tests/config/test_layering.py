"""config/ is the bottom layer every other package reads settings and shared rules from, so it imports none of them;
batch/ (the local transform runner) does not depend on deploy/ (the AWS deployment tool)."""

import ast

import pytest

from config.settings import REPO_ROOT

FORBIDDEN = {
    "config": ("handler", "serving", "batch", "deploy", "training", "bench", "tests"),
    "batch": ("deploy",),
}


def imported_packages(package: str) -> dict[str, set[str]]:
    """{file: top-level packages it imports}, imports inside functions included."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO_ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), FORBIDDEN.items())
def test_a_lower_layer_imports_no_higher_one(package, forbidden):
    files = imported_packages(package)
    assert files, f"no modules found under {package}/"
    wrong = {file: sorted(names & set(forbidden)) for file, names in files.items() if names & set(forbidden)}
    assert not wrong, f"{package}/ must not import {', '.join(forbidden)}: {wrong}"
