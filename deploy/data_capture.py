"""SageMaker Data Capture for a real-time endpoint: what CreateEndpointConfig's DataCaptureConfig says.

SageMaker writes each sampled request and response as one JSON line to
`<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`, with the request's InferenceId when the caller gives
one. Bodies whose content type is listed as CSV or JSON are stored as text, others base64-encoded. docs/deployment.md
says how to rebuild a decision from a record, the model version and the catalogue version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.s3 import S3Location
from config.settings import CSV, JSON, JSONLINES

# The media types the container reads and writes (config.settings.MEDIA_TYPES), stored as text rather than base64.
CSV_CONTENT_TYPES = (CSV,)
JSON_CONTENT_TYPES = (JSON, JSONLINES)


@dataclass(frozen=True)
class DataCaptureSpec:
    destination: S3Location
    sampling_percentage: int = 100
    kms_key_id: str | None = None

    def config(self) -> dict[str, Any]:
        """DataCaptureConfig: requests and responses both, the container's media types stored as text."""
        config: dict[str, Any] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.sampling_percentage,
            "DestinationS3Uri": self.destination.uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": list(CSV_CONTENT_TYPES),
                "JsonContentTypes": list(JSON_CONTENT_TYPES),
            },
        }
        if self.kms_key_id:
            config["KmsKeyId"] = self.kms_key_id
        return config
