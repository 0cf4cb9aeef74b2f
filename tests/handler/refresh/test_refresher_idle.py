"""A worker without an S3 catalogue source must stay idle between control-channel polls, also after the refresh
interval has passed (no poll is ever due, so the thread must not keep finding one overdue)."""

from __future__ import annotations

import threading
import time

from handler.worker import inference
from tests.support.artifacts import write_artifact
from tests.support.worker_settings import use_worker_settings


def test_the_refresher_of_a_bundled_only_worker_does_not_spin_after_the_interval(tmp_path, monkeypatch):
    use_worker_settings(monkeypatch, tmp_path, CARD_VARIABLES_REFRESH_SECONDS="0.5", CARD_VARIABLES_REFRESH_JITTER="0")
    model = inference.model_fn(str(write_artifact(tmp_path / "model", n_cards=3)))
    try:
        thread = next(t for t in threading.enumerate() if t.name == "catalog-refresher")
        time.sleep(1.0)  # twice the interval: a due time in the past would make every wait return at once
        polls = []
        original = model.refresher._answer_control_request
        monkeypatch.setattr(model.refresher, "_answer_control_request", lambda: polls.append(1) or original())
        time.sleep(2.0)
        assert thread.is_alive()
        assert len(polls) <= 4  # about one control-channel poll a second, not thousands
    finally:
        model.refresher.stop()
