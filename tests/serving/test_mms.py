"""The environment the launcher gives MMS: what the /execution-parameters plugin reads is resolved there."""

from config.settings import from_env
from serving.mms import mms_environment


def test_execution_parameters_are_exported_resolved_for_the_plugin():
    settings = from_env(
        {
            "SAGEMAKER_MODEL_SERVER_WORKERS": "4",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": "40",
            "SAGEMAKER_BATCH_STRATEGY": "single-record",
        }
    )
    env = mms_environment(settings, {"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "9"})
    assert env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] == "40"
    assert env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] == "2"  # the inherited 9 is replaced by 100 // 40
    assert env["SAGEMAKER_BATCH_STRATEGY"] == "SINGLE_RECORD"
    assert env["MMS_MAX_REQUEST_SIZE"] == str(40 * 1024 * 1024)
    assert env["MMS_MAX_RESPONSE_SIZE"] == str(2**31 - 1)  # a 40 MB CSV request can be answered with ~600 MB
