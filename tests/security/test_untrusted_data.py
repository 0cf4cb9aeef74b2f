"""Nothing the service receives is ever deserialised as Python objects: the joblib artefact is the one pickle it
loads, from the model directory only; card catalogues (bundled, cached or from S3) are parsed as CSV data only.

The image's processes run as a non-root user: tests/container/test_image.py::test_processes_run_as_a_non_root_user.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from handler.model.artifact import MODEL_FILE, load_artifact
from handler.model.catalog import parse_catalog
from handler.model.errors import ArtifactError, CatalogError
from tests.reliability.catalogues import Unpicklable, csv_of, rows_of, with_cell
from tests.support.artifacts import catalog_csv, metadata, write_artifact
from tests.support.server import REPO

# What the image ships (Dockerfile) and the tools beside it.
PRODUCT = [REPO / "entrypoint.py", *(REPO / package for package in ("config", "handler", "serving", "training"))]
PRODUCT += [REPO / "batch", REPO / "deploy"]
# Calls that turn bytes into arbitrary Python objects (or run text as code).
DESERIALISERS = {
    "joblib.load",
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "cloudpickle.load",
    "cloudpickle.loads",
    "dill.load",
    "dill.loads",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "np.load",
    "numpy.load",
    "pd.read_pickle",
    "pandas.read_pickle",
    "yaml.load",
    "yaml.unsafe_load",
    "torch.load",
    "eval",
    "exec",
}
MODULES = {name.rpartition(".")[0] for name in DESERIALISERS if "." in name}


def product_files() -> list[Path]:
    return sorted(path for root in PRODUCT for path in ([root] if root.is_file() else root.rglob("*.py")))


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return "?"


class _Finder(ast.NodeVisitor):
    """Deserialising calls (and `from pickle import ...`), each with the function it is in."""

    def __init__(self) -> None:
        self.scope = ["<module>"]
        self.found: list[tuple[str, str]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if dotted(node.func) in DESERIALISERS:
            self.found.append((self.scope[-1], dotted(node.func)))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module in MODULES:
            self.found.append((self.scope[-1], f"from {node.module} import"))


def deserialising_calls(path: Path) -> list[tuple[str, str, str]]:
    """(file, enclosing function, call) for each deserialising call in a source file."""
    finder = _Finder()
    finder.visit(ast.parse(path.read_text(), filename=str(path)))
    return [(str(path.relative_to(REPO)), scope, call) for scope, call in finder.found]


def test_the_artifact_loader_is_the_only_code_that_deserialises_objects():
    files = product_files()
    assert len(files) > 20
    found = [call for path in files for call in deserialising_calls(path)]
    assert found == [("handler/model/artifact.py", "_load_estimator", "joblib.load")]


def test_the_estimator_is_read_from_the_model_directory_and_nowhere_else(tmp_path, monkeypatch):
    model_dir = write_artifact(tmp_path / "model")
    assert load_artifact(model_dir).estimator is not None
    elsewhere = write_artifact(tmp_path / "elsewhere")
    monkeypatch.chdir(elsewhere)  # a model.joblib in the working directory must not be picked up
    (model_dir / MODEL_FILE).unlink()
    with pytest.raises(ArtifactError, match=f"{MODEL_FILE} is missing from the model directory"):
        load_artifact(model_dir)


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_catalogue_of_pickle_bytes_is_refused_and_never_unpickled(tmp_path, protocol):
    marker = tmp_path / "unpickled"
    data = pickle.dumps(Unpicklable(marker), protocol=protocol)
    with pytest.raises(CatalogError):
        parse_catalog(data, metadata(), source="s3")
    assert not marker.exists()


FORMULAS = ['=HYPERLINK("http://example.invalid","Apply")', "+1-1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


def test_formula_like_cells_are_text_in_text_columns():
    rows = rows_of(catalog_csv(n_cards=len(FORMULAS)))
    for line, formula in enumerate(FORMULAS, start=1):
        rows = with_cell(rows, line, "card_name", formula)
    catalog = parse_catalog(csv_of(rows), metadata(), source="s3")
    assert list(catalog.card_names) == FORMULAS


@pytest.mark.parametrize("formula", ["=1+1", "=SUM(A1:A2)", "@A1", "+1-1"])
def test_formula_like_cells_in_number_columns_are_refused(formula):
    rows = with_cell(rows_of(catalog_csv()), 2, "annual_fee", formula)
    with pytest.raises(CatalogError, match="line 3: annual_fee must be a number"):
        parse_catalog(csv_of(rows), metadata(), source="s3")
