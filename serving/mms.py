"""Configure multi-model-server for the toolkit's start_model_server, through the environment it reads.

The toolkit builds MMS's config from SAGEMAKER_* variables and enables MMS_* overrides
(enable_envvars_config=true), so everything here is an environment variable plus the toolkit attributes that
serving/patches.py sets (model directory, log4j config, plugins path).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from config.settings import MAX_RESPONSE_BYTES, REPO_ROOT, Settings
from serving import patches, plugins

HANDLER_SERVICE = "handler.worker.service"
LOG4J_CONFIG = Path(__file__).with_name("log4j2.xml")


def mms_environment(settings: Settings, base: dict[str, str]) -> dict[str, str]:
    """The environment MMS, its Java frontend and the Python workers run with."""
    env = dict(base)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    # Workers re-read settings; pin what the launcher resolved so every process agrees.
    env["MODEL_DIR"] = str(settings.model_dir)
    env["SAGEMAKER_BIND_TO_PORT"] = str(settings.port)
    env["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(settings.workers)
    env["SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS"] = str(settings.timeout_seconds)
    env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(settings.max_payload_mb)
    # Read by the /execution-parameters plugin (plugins/execution-parameters), resolved here once.
    env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(settings.concurrent_transforms)
    env["SAGEMAKER_BATCH_STRATEGY"] = settings.batch_strategy
    env.pop("SAGEMAKER_MODEL_SERVER_TIMEOUT", None)  # MMS reads that one as minutes
    env["MMS_INFERENCE_ADDRESS"] = f"http://{settings.bind_host}:{settings.port}"
    # The management API can register and delete models: never reachable from outside the container.
    env["MMS_MANAGEMENT_ADDRESS"] = f"http://127.0.0.1:{settings.management_port}"
    env["MMS_MAX_REQUEST_SIZE"] = str(settings.max_payload_bytes)
    # A batch response is ~15x its request (9 bytes per odd, 40 odds per ~25-byte CSV line): allow MMS's maximum.
    env["MMS_MAX_RESPONSE_SIZE"] = str(MAX_RESPONSE_BYTES)
    env["MMS_DEFAULT_RESPONSE_TIMEOUT_SECONDS"] = str(settings.timeout_seconds)
    env["LOG_LOCATION"] = env["METRICS_LOCATION"] = str(settings.log_dir)
    return env


def configure_toolkit(settings: Settings) -> None:
    """Point the toolkit at our model directory, log config and plugins (it reads them at call time)."""
    patches.point_at(settings.model_dir, LOG4J_CONFIG, plugins.BUILT_DIR if plugins.BUILT_DIR.is_dir() else None)
    # The toolkit gives its logger a plain-text handler of its own: let records reach our JSON root handler only.
    logging.getLogger("sagemaker-inference").handlers.clear()
