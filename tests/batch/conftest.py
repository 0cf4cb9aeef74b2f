"""Every batch test shares one server configuration (each distinct env is an MMS restart)."""

import pytest

from handler.artifact import load_artifact
from tests.support.batch import batch_env


@pytest.fixture(scope="module")
def server(servers, demo_model):
    """MMS with SAGEMAKER_BATCH, a 40 MB payload limit, 2 workers and DEFAULT_CARDS (tests.support.batch)."""
    return servers.get(batch_env(demo_model))


@pytest.fixture(scope="module")
def artifact(demo_model):
    return load_artifact(demo_model)


@pytest.fixture(scope="module")
def names(artifact):
    return artifact.metadata.applicant_feature_names
