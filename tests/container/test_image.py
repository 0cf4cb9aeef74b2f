"""The image as SageMaker runs it: built with podman from the Dockerfile, started as `IMAGE serve` with a model
mounted at /opt/ml/model, probed over HTTP on a published loopback port, then stopped with SIGTERM. `IMAGE transform`
runs a local batch transform job over a mounted folder against that server, as SageMaker's agent would beside it.

Needs podman, runc and debootstrap (scripts/install_container_tools.sh) and root; run with `make test-container`.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from config.parsing import parse_boolean
from handler.model.artifact import load_artifact
from tests.support import figures
from tests.support.server import REPO, free_port
from training.demo_data import DEFAULT_SEED, build_demo_data
from training.demo_model import build as build_demo_model
from training.demo_model import write_channels
from training.paths import TrainingPaths

pytestmark = [pytest.mark.container, pytest.mark.timeout(1200)]

PODMAN = str(REPO / "scripts" / "podman.sh")
IMAGE = "localhost/approval-odds:container-test"
SAGEMAKER_STOP_GRACE_SECONDS = 30  # SageMaker sends SIGKILL this long after SIGTERM
STARTUP_LIMIT_SECONDS = 240  # SageMaker's default health-check window is about 4 minutes
# A value that cannot appear in a log line by accident: if it shows up, applicant data was logged.
MARKER_INCOME = 987654.25
# Lines that mean part of the server started broken (a bad log config, a Python exception).
STARTUP_ERROR_SIGNS = ("[Fatal Error]", "ERROR StatusLogger", "Traceback (most recent call last)")

APPLICANT = {
    "derogatory_reports": 0,
    "age": 37,
    "annual_income": MARKER_INCOME,
    "home_owner": True,
    "self_employed": False,
    "dependents": 2,
    "months_at_address": 54,
    "major_cards": 1,
    "active_accounts": 6,
}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def image() -> str:
    missing = [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not installed: run scripts/install_container_tools.sh (as root)"
    subprocess.run(["bash", str(REPO / "scripts" / "container_base.sh")], check=True, timeout=600)
    podman("build", "--pull=never", "--tag", IMAGE, str(REPO), timeout=1200)
    size_mb = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout) / 1e6
    print(f"\nimage {IMAGE}: {size_mb:.0f} MB", file=sys.stderr)
    return IMAGE


@pytest.fixture(scope="module")
def model_dir(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model, copied world-readable: the container's non-root user must read the mount."""
    target = tmp_path_factory.mktemp("mounted") / "model"
    shutil.copytree(demo_model, target)
    for path in (target.parent, target, *target.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture(scope="module")
def container(image: str, model_dir: Path) -> Iterator[dict[str, str]]:
    name = f"approval-odds-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    podman(
        "run", "--detach", "--name", name,
        "--publish", f"127.0.0.1:{port}:8080",
        "--volume", f"{model_dir}:/opt/ml/model:ro",
        image, "serve",
    )  # fmt: skip
    try:
        wait_until_healthy(name, f"http://127.0.0.1:{port}")
        yield {"name": name, "url": f"http://127.0.0.1:{port}"}
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def wait_until_healthy(name: str, url: str) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        if state != "running":
            logs = podman("logs", name, check=False)
            output = logs.stdout[-3000:] + logs.stderr[-3000:]
            raise AssertionError(f"container {state} before /ping answered:\n{output}")
        try:
            if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"/ping did not answer 200 within {STARTUP_LIMIT_SECONDS} s")


def test_ping_answers_200(container: dict[str, str]) -> None:
    assert requests.get(f"{container['url']}/ping", timeout=2).status_code == 200


def test_json_invocation_returns_odds_for_every_active_card(container: dict[str, str], model_dir: Path) -> None:
    response = requests.post(
        f"{container['url']}/invocations",
        json={"applicants": [{"applicant_id": "a-1", **APPLICANT}]},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    (result,) = response.json()["results"]
    assert result["applicant_id"] == "a-1"
    assert {odds["card_id"] for odds in result["odds"]} == active_card_ids(model_dir)
    assert all(0.0 <= odds["approval_odds"] <= 1.0 for odds in result["odds"])


def csv_row(applicant: dict[str, object]) -> str:
    return ",".join(str(int(value) if isinstance(value, bool) else value) for value in applicant.values())


def test_csv_invocation_returns_one_line_per_applicant(container: dict[str, str], model_dir: Path) -> None:
    row = csv_row(APPLICANT)
    response = requests.post(
        f"{container['url']}/invocations",
        data=f"{row}\n{row}\n",
        headers={"Content-Type": "text/csv; charset=utf-8", "Accept": "text/csv"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = response.text.split("\n")
    assert len(lines) == 2  # one per applicant, no trailing newline (batch transform appends one)
    assert lines[0] == lines[1]
    values = [float(value) for value in lines[0].split(",")]
    assert len(values) == len(active_card_ids(model_dir))
    assert all(0.0 <= value <= 1.0 for value in values)


def test_bad_request_is_a_4xx_json_error(container: dict[str, str]) -> None:
    response = requests.post(
        f"{container['url']}/invocations",
        json={"applicants": [{**APPLICANT, "anual_income": 1}]},
        timeout=60,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "unknown_field"
    assert "Traceback" not in response.text


def test_the_mms_plugins_are_loaded(container: dict[str, str]) -> None:
    # The jars are built in the builder stage; MMS answers 404 for an endpoint no plugin provides.
    response = requests.get(f"{container['url']}/updateccdata", timeout=30)
    assert response.status_code != 404, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "request_id" in response.json()


def test_processes_run_as_a_non_root_user(container: dict[str, str]) -> None:
    statuses = podman("exec", container["name"], "sh", "-c", "cat /proc/[0-9]*/status").stdout
    uids = {int(uid) for line in re.findall(r"^Uid:\s+(.+)$", statuses, re.M) for uid in line.split()}
    assert uids, statuses
    assert 0 not in uids


def test_applicant_values_never_reach_the_logs(container: dict[str, str]) -> None:
    for body in ({"applicant": APPLICANT}, {"applicant": {**APPLICANT, "age": "old"}}):  # a success and a 400
        requests.post(f"{container['url']}/invocations", json=body, timeout=60)
    logs = podman("logs", container["name"])
    assert str(MARKER_INCOME) not in logs.stdout + logs.stderr


def test_every_invocation_has_its_audit_line_written_past_javas_relay(container: dict[str, str]) -> None:
    """In the image (non-root user, podman's log pipe) each worker opens the launcher's output for its audit lines."""
    response = requests.post(f"{container['url']}/invocations", json={"applicant": APPLICANT}, timeout=60)
    request_id = response.headers["X-Request-Id"]
    lines = [json.loads(line) for line in podman("logs", container["name"]).stdout.splitlines() if line.startswith("{")]
    routes = [line["audit_route"] for line in lines if line.get("message") == "worker ready"]
    assert routes and set(routes) == {"direct"}
    audits = [line for line in lines if line.get("logger") == "handler.audit" and line.get("request_id") == request_id]
    assert [(audit["status"], audit["applicants"]) for audit in audits] == [(200, 1)]


def test_start_up_logs_no_errors(container: dict[str, str]) -> None:
    logs = podman("logs", container["name"])
    output = logs.stdout + logs.stderr
    problems = [line for line in output.splitlines() if any(sign in line for sign in STARTUP_ERROR_SIGNS)]
    assert problems == []


def test_transform_in_the_image_scores_a_mounted_folder_like_the_server(
    container: dict[str, str], image: str, tmp_path: Path
) -> None:
    """A batch job reproduced from the image alone: the runner in a second container, in the serving container's
    network (SageMaker's agent reaches the server on localhost:8080 likewise), input and output folders mounted."""
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    (inputs / "day-1").mkdir(parents=True)
    outputs.mkdir()
    rows = [csv_row({**APPLICANT, "age": 20 + i, "annual_income": 30_000 + 1_000 * i}) for i in range(40)]
    (inputs / "day-1" / "applicants.csv").write_text("\n".join(rows) + "\n")
    for path in (tmp_path, inputs, outputs, *inputs.rglob("*")):  # usable by the image's non-root user
        path.chmod(0o777 if path.is_dir() else 0o644)
    result = podman(
        "run", "--rm", "--network", f"container:{container['name']}",
        "--volume", f"{inputs}:/data/in:ro", "--volume", f"{outputs}:/data/out",
        image, "transform", "--input", "/data/in", "--output", "/data/out", "--url", "http://127.0.0.1:8080",
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "40 records" in result.stdout
    expected = requests.post(
        f"{container['url']}/invocations",
        data="\n".join(rows),
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
        timeout=60,
    )
    assert expected.status_code == 200, expected.text
    # AssembleWith=Line: the response, then one line break; one output line per input line.
    assert (outputs / "day-1" / "applicants.csv.out").read_text() == expected.text + "\n"


def test_sigterm_stops_the_server_within_sagemakers_grace_period(container: dict[str, str]) -> None:
    started = time.monotonic()
    podman("stop", "--time", str(SAGEMAKER_STOP_GRACE_SECONDS), container["name"], timeout=90)
    elapsed = time.monotonic() - started
    exit_code = int(podman("inspect", "--format", "{{.State.ExitCode}}", container["name"]).stdout)
    # The verdict is podman's: it sends SIGKILL only if SIGTERM has not stopped the container within the grace period.
    # How long it took is a figure (a busy CI machine stretches it), not a limit of its own.
    figures.record("container stop after SIGTERM", elapsed, "s")
    assert exit_code != 137, "podman had to SIGKILL the container: SIGTERM did not stop it"


def test_a_container_without_a_model_exits_with_a_clear_message(image: str) -> None:
    result = podman("run", "--rm", image, "serve", timeout=120, check=False)
    assert result.returncode != 0
    assert "cannot serve" in result.stderr


def test_train_in_the_image_builds_the_same_model_as_the_dev_environment(image: str, tmp_path: Path) -> None:
    root = tmp_path / "opt-ml"
    write_channels(TrainingPaths(root), build_demo_data(DEFAULT_SEED), DEFAULT_SEED)
    for directory in (root / "model", root / "output"):
        directory.mkdir(parents=True)
    for path in (tmp_path, root, *root.rglob("*")):  # SageMaker's mounts are usable by the image's user
        path.chmod(0o777 if path.is_dir() else 0o644)
    result = podman("run", "--rm", "--volume", f"{root}:/opt/ml", image, "train", timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert build_demo_model(tmp_path / "host-model", DEFAULT_SEED) == 0
    in_image, on_host = load_artifact(root / "model").metadata, load_artifact(tmp_path / "host-model").metadata
    assert in_image.model_version == on_host.model_version  # a digest of the training inputs
    assert in_image.metrics == on_host.metrics  # same pins, same data: the same fit (metrics to six decimals)


def test_image_ships_no_compiler_jdk_package_cache_or_deployment_tool(image: str) -> None:
    probe = (
        "for tool in javac jar gcc cc make; do command -v $tool; done;"
        " find /var/lib/apt/lists /var/cache/apt -type f ! -name lock;"
        " ls -d /root/.cache /opt/program/deploy 2>/dev/null; true"
    )
    result = podman("run", "--rm", "--user", "0", "--entrypoint", "sh", image, "-c", probe)
    assert result.stdout.strip() == ""
    config = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    assert not [name for name in config.get("Env", []) if name.startswith(("AWS_", "PIP_INDEX", "PIP_CERT"))]
    assert config["Entrypoint"] == ["python", "entrypoint.py"]
    assert "8080/tcp" in config["ExposedPorts"]


def active_card_ids(model_dir: Path) -> set[str]:
    with (model_dir / "card_variables.csv").open(newline="", encoding="utf-8") as file:
        return {row["card_id"] for row in csv.DictReader(file) if parse_boolean(row["active"])}
