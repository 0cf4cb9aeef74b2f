"""output_fn refuses a response MMS cannot carry: MMS itself would drop it and answer 500 "Worker died."."""

import numpy as np
import pytest

from handler import inference
from handler.errors import RequestError
from handler.inference import output_fn
from handler.scoring import Prediction


def prediction(applicants: int, cards: int) -> Prediction:
    card_ids = tuple(f"card-{i}" for i in range(cards))
    return Prediction([None] * applicants, card_ids, np.full((applicants, cards), 0.5), "m-1", "c-1")


def test_a_response_over_the_limit_is_a_413_telling_how_to_split_the_work(monkeypatch):
    monkeypatch.setattr(inference, "MAX_RESPONSE_BYTES", 10 * 2**20)
    body, media_type = output_fn(prediction(1000, 40), "text/csv")  # 360 kB: fine
    assert (len(body), media_type) == (1000 * 40 * 9 - 1, "text/csv")
    with pytest.raises(RequestError) as raised:
        output_fn(prediction(30_000, 40), "text/csv")  # 10.3 MB
    error = raised.value
    assert (error.status, error.code) == (413, "response_too_large")
    assert "30,000 applicants x 40 cards would be 10.3 MB, over the 10 MB" in error.message
    assert "MaxPayloadInMB" in error.message and "DEFAULT_CARDS" in error.message
