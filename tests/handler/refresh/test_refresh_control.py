"""The worker side of the /updateccdata file protocol (plugins/updateccdata is the other side)."""

import json

from handler.refresh.refresh_control import ACKS_DIR, REQUEST_FILE, WORKERS_DIR, ControlChannel


def request(directory, request_id):
    (directory / REQUEST_FILE).write_text(str(request_id))


def test_a_worker_registers_under_its_pid_and_unregisters(tmp_path):
    channel = ControlChannel(tmp_path, pid=4242)
    channel.register()
    assert json.loads((tmp_path / WORKERS_DIR / "4242.json").read_text())["pid"] == 4242
    channel.acknowledge(1, {"status": "unchanged"})
    channel.unregister()
    assert not list((tmp_path / WORKERS_DIR).iterdir()) and not list((tmp_path / ACKS_DIR).iterdir())


def test_a_request_waiting_when_the_worker_starts_is_answered(tmp_path):
    request(tmp_path, 100)  # the plugin may have listed this worker already and be waiting for it
    channel = ControlChannel(tmp_path, pid=1)
    channel.register()
    assert channel.poll() == 100
    channel.acknowledge(100, {"status": "unchanged"})
    assert channel.poll() is None
    request(tmp_path, 101)
    assert channel.poll() == 101


def test_an_answered_request_is_not_answered_again_and_the_ack_names_it(tmp_path):
    channel = ControlChannel(tmp_path, pid=7)
    channel.register()
    request(tmp_path, 5)
    assert channel.poll() == 5
    channel.acknowledge(5, {"status": "updated", "catalog_version": "abc"})
    assert channel.poll() is None
    ack = json.loads((tmp_path / ACKS_DIR / "7.json").read_text())
    assert ack == {"status": "updated", "catalog_version": "abc", "pid": 7, "request_id": 5}


def test_a_missing_or_garbled_request_file_asks_nothing(tmp_path):
    channel = ControlChannel(tmp_path, pid=1)
    channel.register()
    assert channel.poll() is None
    (tmp_path / REQUEST_FILE).write_bytes(b"\x00garbage")
    assert channel.poll() is None
