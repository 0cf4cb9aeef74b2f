"""The catalogue refresher inside the real multi-model-server (2 workers) with a real S3 (SeaweedFS on loopback).

Every response names the catalogue that scored it (catalog_version), which is how these tests see each worker.
"""

import uuid

import pytest
import requests

from handler.model.catalog import content_version
from tests.s3_fixtures import Bucket, aws_env
from tests.support.artifacts import applicant
from tests.support.server import free_port
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.mms, pytest.mark.s3]

KEY = "card_variables.csv"
SAMPLE = 12  # invocations per check: enough that both workers answer some of them
REFRESH_ATTRIBUTE = {"X-Amzn-SageMaker-Custom-Attributes": "top_k=3; refresh-card-variables=true"}


@pytest.fixture(scope="module")
def bucket(seaweed_s3):
    return Bucket(seaweed_s3, f"cards-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="module")
def catalogues(demo_model):
    """The demo catalogue and two edits of it, as the business would upload them."""
    demo = (demo_model / "card_variables.csv").read_bytes()
    lines = demo.decode().splitlines(keepends=True)
    return {"demo": demo, "one card less": "".join(lines[:-1]).encode(), "two cards less": "".join(lines[:-2]).encode()}


def server_env(demo_model, endpoint, uri, **settings):
    return {"MODEL_DIR": str(demo_model), "CARD_VARIABLES_S3_URI": uri, **aws_env(endpoint), **settings}


def versions(server, headers=None, n=SAMPLE):
    """The catalogue versions that scored n invocations (each must succeed)."""
    seen = set()
    for _ in range(n):
        answer = requests.post(
            server.url + "/invocations", json={"applicant": applicant()}, headers=headers, timeout=30
        )
        assert answer.status_code == 200, answer.text
        seen.add(answer.json()["catalog_version"])
    return seen


def test_updateccdata_makes_every_worker_refresh_now(servers, demo_model, seaweed_s3, bucket, catalogues):
    bucket.put(KEY, catalogues["demo"])
    env = server_env(demo_model, seaweed_s3.endpoint, bucket.uri(KEY), CARD_VARIABLES_REFRESH_SECONDS="3600")
    server = servers.get(env)
    assert versions(server) == {content_version(catalogues["demo"])}
    bucket.put(KEY, catalogues["one card less"])
    assert versions(server) == {content_version(catalogues["demo"])}  # the next poll is an hour away

    answer = requests.get(server.url + "/updateccdata", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert {worker["pid"] for worker in body["refreshed"]} == server.worker_pids() and body["no_answer"] == []
    new = content_version(catalogues["one card less"])
    assert {(worker["catalog_version"], worker["cards"]) for worker in body["refreshed"]} == {(new, 40)}
    assert versions(server) == {new}

    again = requests.get(server.url + "/updateccdata", timeout=30).json()
    assert {worker["status"] for worker in again["refreshed"]} == {"unchanged"}


def test_the_custom_attribute_refreshes_the_worker_before_scoring(servers, demo_model, seaweed_s3, bucket, catalogues):
    bucket.put(KEY, catalogues["demo"])
    env = server_env(demo_model, seaweed_s3.endpoint, bucket.uri(KEY), CARD_VARIABLES_REFRESH_SECONDS="3600")
    server = servers.get(env)  # the server of the test above, if it ran: its workers hold an older catalogue
    bucket.put(KEY, catalogues["two cards less"])
    # Whichever worker takes each request refreshes first, so even the first response is scored on the new one.
    assert versions(server, headers=REFRESH_ATTRIBUTE) == {content_version(catalogues["two cards less"])}


def test_a_new_catalogue_reaches_every_worker_by_polling_and_survives_a_restart_with_s3_down(
    servers, demo_model, seaweed_s3, bucket, catalogues, tmp_path
):
    interval = 1.0
    cache = {"CARD_VARIABLES_CACHE_DIR": str(tmp_path / "cache")}
    bucket.put(KEY, catalogues["demo"])
    env = server_env(
        demo_model, seaweed_s3.endpoint, bucket.uri(KEY), CARD_VARIABLES_REFRESH_SECONDS=str(interval), **cache
    )
    server = servers.get(env)
    bucket.put(KEY, catalogues["one card less"])
    new = content_version(catalogues["one card less"])
    # By the workers' own polls (no refresh is asked for); how soon is a hang guard, not a verdict, on a busy machine.
    wait_for(lambda: versions(server) == {new}, interval=0.2, what="every worker serving the new catalogue")

    # S3 goes away (nothing listens on the endpoint) and the server restarts: it serves the last good copy.
    down = server_env(demo_model, f"http://127.0.0.1:{free_port()}", bucket.uri(KEY), **cache)
    assert versions(servers.get(down)) == {new}


def test_s3_down_at_start_serves_the_bundled_catalogue(servers, demo_model, bucket, catalogues):
    down = server_env(demo_model, f"http://127.0.0.1:{free_port()}", bucket.uri(KEY))
    assert versions(servers.get(down)) == {content_version(catalogues["demo"])}
