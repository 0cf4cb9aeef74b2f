"""`entrypoint.py transform` against the real batch server: files cut into mini-batches under the payload limit,
one output line per input line, in order, with the odds of in-process scoring."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from batch.runner import main
from tests.support.batch import CSV_TOLERANCE, applicant_table, csv_lines, csv_odds, jsonl_lines, scored
from tests.support.server import REPO

pytestmark = pytest.mark.mms


def run(server, source, output, *options: str) -> int:
    return main(["--input", str(source), "--output", str(output), "--url", server.url, *options])


def assert_output(path, artifact, table) -> None:
    """SageMaker's AssembleWith=Line: each response then a line break, so one line per record and no blank line."""
    body = path.read_bytes()
    assert body.endswith(b"\n") and b"\n\n" not in body
    odds = csv_odds(body[:-1])
    assert odds.shape[0] == len(table)
    assert np.abs(odds - scored(artifact, table)).max() <= CSV_TOLERANCE


def test_several_files_one_larger_than_the_payload_limit(server, artifact, names, tmp_path, capsys):
    tables = {"small.csv": applicant_table(20, 1), "big.csv": applicant_table(100_000, 2), "sub/crlf.csv": None}
    tables["sub/crlf.csv"] = applicant_table(3_000, 3)
    source = tmp_path / "in"
    for name, table in tables.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(csv_lines(table, names, newline="\r\n" if "crlf" in name else "\n"))
    assert (source / "big.csv").stat().st_size > 2.5 * 2**20

    assert run(server, source, tmp_path / "out", "--max-payload-mb", "1") == 0

    for name, table in tables.items():
        assert_output(tmp_path / "out" / f"{name}.out", artifact, table)
    report = capsys.readouterr().out
    assert "big.csv: 100,000 records in 3 mini-batch(es)" in report
    assert "103,020 records in 3 file(s)" in report
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "big.csv.out",
        "crlf.csv.out",
        "small.csv.out",
    ]


def test_the_payload_limit_and_concurrency_default_to_the_servers_execution_parameters(
    server, artifact, names, tmp_path, capsys
):
    table = applicant_table(500, 4)
    (tmp_path / "a.csv").write_bytes(csv_lines(table, names))
    assert run(server, tmp_path / "a.csv", tmp_path / "out") == 0
    assert "mini-batches of at most 40 MB, 2 in flight" in capsys.readouterr().out
    assert_output(tmp_path / "out" / "a.csv.out", artifact, table)


def test_a_csv_header_is_sent_with_every_mini_batch_and_not_scored(server, artifact, names, tmp_path):
    table = applicant_table(60_000, 5)
    (tmp_path / "h.csv").write_bytes(csv_lines(table, names, header=True, newline="\r\n"))
    assert run(server, tmp_path / "h.csv", tmp_path / "out", "--max-payload-mb", "1", "--csv-header") == 0
    assert_output(tmp_path / "out" / "h.csv.out", artifact, table)


def test_a_header_without_csv_header_is_caught_by_the_line_count(server, names, tmp_path, capsys):
    (tmp_path / "h.csv").write_bytes(csv_lines(applicant_table(10, 6), names, header=True))
    assert run(server, tmp_path / "h.csv", tmp_path / "out") == 1
    assert "h.csv lines 1-11: the response has 10 lines for 11 records (a CSV header? use --csv-header)" in (
        capsys.readouterr().err
    )
    assert not list((tmp_path / "out").iterdir())


def test_json_lines_in_and_out(server, artifact, names, tmp_path):
    table = applicant_table(8_000, 7)
    (tmp_path / "a.jsonl").write_bytes(jsonl_lines(table, names))
    jsonl = "application/jsonlines"
    options = ("--max-payload-mb", "1", "--content-type", jsonl, "--accept", jsonl, "--concurrency", "3")
    assert run(server, tmp_path / "a.jsonl", tmp_path / "out", *options) == 0
    lines = (tmp_path / "out" / "a.jsonl.out").read_bytes().split(b"\n")
    assert len(lines) == len(table) + 1 and lines[-1] == b""
    assert all(line.startswith(b'{"applicant_id":null,"odds":[') for line in lines[:-1])


def test_reason_codes_through_json_lines_in_and_out(server, artifact, names, tmp_path):
    """Options for every mini-batch from --custom-attributes: 3 reasons per card, the top 2 cards."""
    from handler.model.reasons import Explainer

    table = applicant_table(3_000, 8)
    (tmp_path / "a.jsonl").write_bytes(jsonl_lines(table, names))
    jsonl = "application/jsonlines"
    options = (
        "--max-payload-mb",
        "1",
        "--content-type",
        jsonl,
        "--accept",
        jsonl,
        "--custom-attributes",
        "reasons=3; top_k=2",
    )
    assert run(server, tmp_path / "a.jsonl", tmp_path / "out", *options) == 0
    lines = (tmp_path / "out" / "a.jsonl.out").read_bytes().split(b"\n")[:-1]
    assert len(lines) == len(table)
    explainer = Explainer(artifact.estimator, artifact.metadata, artifact.applicant_columns, artifact.card_columns)
    catalog = artifact.bundled_catalog
    for row in (0, 1234, len(table) - 1):  # spread over mini-batches: the same reasons as in-process
        result = json.loads(lines[row])
        assert len(result["odds"]) == 2
        for entry in result["odds"]:
            position = catalog.index[entry["card_id"]]
            expected = explainer.explain(table[row : row + 1], catalog.features, np.array([position]), 3)
            wanted = [
                (expected.codes[g].code, v)
                for g, v in zip(expected.index[0, 0].tolist(), expected.contributions[0, 0].tolist(), strict=True)
                if g >= 0
            ]
            assert [(reason["code"], reason["contribution"]) for reason in entry["reasons"]] == wanted


def test_a_bad_line_stops_the_job_naming_its_line_in_the_file(server, names, tmp_path, capsys):
    lines = csv_lines(applicant_table(80_000, 8), names).split(b"\n")
    lines[66_665] = lines[66_665].replace(b",", b",x", 1)  # line 66,666: derogatory_reports fine, age "x.."
    (tmp_path / "bad.csv").write_bytes(b"\n".join(lines))
    assert run(server, tmp_path / "bad.csv", tmp_path / "out", "--max-payload-mb", "1") == 1
    error = capsys.readouterr().err
    assert "HTTP 400: invalid_value" in error
    assert "line 66666 field age must be a number" in error
    assert not list((tmp_path / "out").iterdir()), "no partial output"


def test_a_line_over_the_payload_limit_stops_the_job(server, names, tmp_path, capsys):
    body = csv_lines(applicant_table(10, 9), names) + b"1," * (2**20) + b"1\n"
    (tmp_path / "long.csv").write_bytes(body)
    assert run(server, tmp_path / "long.csv", tmp_path / "out", "--max-payload-mb", "1") == 1
    assert (
        "line 11 is 2,097,154 bytes: it alone exceeds the payload limit of 1,048,576 bytes" in capsys.readouterr().err
    )


def test_sagemakers_100_mb_rule_is_enforced(server, names, tmp_path, capsys):
    (tmp_path / "a.csv").write_bytes(csv_lines(applicant_table(3, 10), names))
    assert run(server, tmp_path / "a.csv", tmp_path / "out", "--max-payload-mb", "60", "--concurrency", "2") == 1
    assert "2 concurrent transforms x 60 MB = 120 MB" in capsys.readouterr().err


def test_the_entry_point_runs_a_transform(server, artifact, names, tmp_path):
    table = applicant_table(50, 11)
    (tmp_path / "a.csv").write_bytes(csv_lines(table, names))
    command = [sys.executable, "entrypoint.py", "transform", "--input", str(tmp_path / "a.csv")]
    done = subprocess.run(
        [*command, "--output", str(tmp_path / "out"), "--url", server.url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert_output(tmp_path / "out" / "a.csv.out", artifact, table)
