"""GET /execution-parameters (plugins/execution-parameters): SageMaker's batch transform asks it before sending
records; a 200 whose body is not this JSON breaks the job, so every environment must give valid values."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support.batch import batch_env
from tests.support.server import REPO

PLUGIN_JAR = REPO / "build" / "plugins" / "execution-parameters.jar"
SDK_JAR = REPO / ".venv" / "lib" / "python3.11" / "site-packages" / "mms" / "frontend" / "model-server.jar"
# Calls the plugin's own parsing with this JVM's environment and prints the answer it would serve.
PROBE = """
package approvalodds.mms;

public final class Probe {
    public static void main(String[] args) {
        System.out.println(ExecutionParameters.parameters(System.getenv()));
    }
}
"""


def parameters(server) -> dict:
    answer = requests.get(server.url + "/execution-parameters", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    return answer.json()


@pytest.mark.mms
def test_the_batch_server_advertises_its_configuration(servers, demo_model):
    server = servers.get(batch_env(demo_model))  # 2 workers, 40 MB: the env of the other batch tests
    assert parameters(server) == {"MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 40}


@pytest.mark.mms
def test_another_configuration_gives_another_answer(servers, demo_model):
    env = batch_env(demo_model, SAGEMAKER_MAX_PAYLOAD_IN_MB="100", SAGEMAKER_BATCH_STRATEGY="single-record")
    server = servers.get(env)
    # 2 workers, but 2 x 100 MB would exceed SageMaker's 100 MB: one transform at a time.
    assert parameters(server) == {"MaxConcurrentTransforms": 1, "BatchStrategy": "SINGLE_RECORD", "MaxPayloadInMB": 100}


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Path:
    classes = tmp_path_factory.mktemp("probe")
    source = classes / "Probe.java"
    source.write_text(PROBE)
    classpath = f"{PLUGIN_JAR}{os.pathsep}{SDK_JAR}"
    subprocess.run(["javac", "-cp", classpath, "-d", str(classes), str(source)], check=True, timeout=120)
    return classes


def answer_for(probe: Path, **env: str) -> dict:
    classpath = os.pathsep.join([str(probe), str(PLUGIN_JAR), str(SDK_JAR)])
    done = subprocess.run(
        ["java", "-cp", classpath, "approvalodds.mms.Probe"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (1, "MULTI_RECORD", 6)),  # SageMaker's own defaults
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "4"}, (4, "MULTI_RECORD", 6)),
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "4", "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "3"}, (3, "MULTI_RECORD", 6)),
        ({"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "8", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "30"}, (3, "MULTI_RECORD", 30)),
        ({"SAGEMAKER_BATCH_STRATEGY": " single_record "}, (1, "SINGLE_RECORD", 6)),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "abc", "SAGEMAKER_MODEL_SERVER_WORKERS": "-2"}, (1, "MULTI_RECORD", 6)),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "101", "SAGEMAKER_BATCH_STRATEGY": "ALL"}, (1, "MULTI_RECORD", 6)),
        (
            {"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "99999999999", "SAGEMAKER_MAX_PAYLOAD_IN_MB": ""},
            (1, "MULTI_RECORD", 6),
        ),
    ],
)
def test_any_environment_gives_valid_parameters_within_100_mb(probe, env, expected):
    answer = answer_for(probe, **env)
    assert (answer["MaxConcurrentTransforms"], answer["BatchStrategy"], answer["MaxPayloadInMB"]) == expected
    assert answer["MaxConcurrentTransforms"] * answer["MaxPayloadInMB"] <= 100
