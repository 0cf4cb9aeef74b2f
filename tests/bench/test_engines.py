"""The bench's engine rows: the engine the server would choose, timed against sklearn on the same calls."""

from bench.engines import APPLICANTS, measure, render
from tests.support.artifacts import write_artifact


def test_a_row_times_the_chosen_engine_and_sklearn_for_every_call_size(tmp_path):
    row = measure("small", write_artifact(tmp_path / "model"), budget_s=0.05)
    assert (row.model, row.shape, row.engine) == ("small", "20 x depth 2", "pair-trees")
    assert row.rows_checked > 0 and row.check_seconds > 0
    assert set(row.chosen) == set(row.sklearn) == set(APPLICANTS)
    assert all(seconds > 0 for seconds in (*row.chosen.values(), *row.sklearn.values()))
    table = render([row])
    assert "small" in table and "pair-trees" in table and f"{APPLICANTS[-1]} appl." in table
