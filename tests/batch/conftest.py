"""Every batch test shares one server configuration (each distinct env is an MMS restart)."""

import pytest

from tests.support.batch import batch_env


@pytest.fixture(scope="module")
def server(servers, demo_model):
    """MMS with SAGEMAKER_BATCH, a 40 MB payload limit, 2 workers and DEFAULT_CARDS (tests.support.batch)."""
    return servers.get(batch_env(demo_model))
