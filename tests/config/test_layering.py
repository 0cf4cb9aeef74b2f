"""config/ is the bottom layer every other package reads settings and shared rules from, so it imports none of them;
handler/ (what runs in a worker) and training/ (which writes the model's format) depend on no tool; batch/ (the local
transform runner) does not depend on deploy/ (the AWS deployment tool); no tool depends on the test suite."""

import ast

import pytest

from config.settings import REPO_ROOT

FORBIDDEN = {
    "config": ("handler", "serving", "batch", "deploy", "training", "bench", "tests"),
    "handler": ("serving", "batch", "deploy", "training", "bench", "tests"),
    "training": ("serving", "batch", "deploy", "bench", "tests"),
    "serving": ("batch", "deploy", "training", "bench", "tests"),
    "batch": ("deploy", "training", "bench", "tests"),
    "deploy": ("batch", "training", "bench", "tests"),
    "bench": ("tests",),
}


def imported_modules(package: str) -> dict[str, set[str]]:
    """{file: dotted modules it imports}, imports inside functions included."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[str(path.relative_to(REPO_ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), FORBIDDEN.items())
def test_a_lower_layer_imports_no_higher_one(package, forbidden):
    files = {file: {name.split(".")[0] for name in names} for file, names in imported_modules(package).items()}
    assert files, f"no modules found under {package}/"
    wrong = {file: sorted(names & set(forbidden)) for file, names in files.items() if names & set(forbidden)}
    assert not wrong, f"{package}/ must not import {', '.join(forbidden)}: {wrong}"


def test_training_reads_only_the_models_own_format_from_the_handler():
    """training/ writes what handler/model/ reads; the worker's codecs, refresh and MMS glue are not its business."""
    reached = {name for names in imported_modules("training").values() for name in names if name.startswith("handler")}
    assert reached, "training/ no longer reads the model format from handler.model: update this test"
    assert {name for name in reached if not name.startswith("handler.model")} == set()
