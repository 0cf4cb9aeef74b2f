"""`entrypoint.py serve`: validate the model, then run MMS through the toolkit and own its lifetime."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time

import psutil

import config
from handler.model.artifact import Artifact, load_artifact
from handler.model.errors import ArtifactError
from handler.model.scoring import select_cards, unknown_cards
from handler.telemetry import publisher as metrics_publisher
from handler.worker import audit_output, logs
from handler.worker.patching import PatchError
from serving import patches, plugins, supervisor
from serving.json_output import JsonOutput
from serving.mms import HANDLER_SERVICE, configure_toolkit, mms_environment

log = logging.getLogger("serving")


def serve(settings: config.Settings) -> int:
    logs.configure(settings.log_level)
    try:
        patches.check()  # first: a toolkit or MMS release this container cannot patch fails before anything starts
    except PatchError as error:
        print(f"approval-odds: {error}", file=sys.stderr)
        return 1
    plugins.warn_if_unbuilt()
    try:
        # The check runs here, once per host; the workers find its verdict in control_dir (handler/model/verdicts.py).
        artifact = load_artifact(settings.model_dir, settings.prediction_engine, verdicts=settings.control_dir)
        _check_startup(settings, artifact)
    except (ArtifactError, OSError) as error:
        # One line, before MMS exists: never a healthy /ping in front of a broken model.
        print(f"approval-odds: cannot serve {settings.model_dir}: {error}", file=sys.stderr)
        return 1
    for directory in (settings.log_dir, settings.control_dir, settings.catalog_cache_dir):
        directory.mkdir(parents=True, exist_ok=True)
    os.environ.update(mms_environment(settings, dict(os.environ)))
    # The workers open the launcher's fd 1 once JsonOutput (below) has made it the pump's pipe.
    os.environ.update(audit_output.launcher_environment(settings))
    sys.stdout.flush()
    with JsonOutput():
        configure_toolkit(settings)
        exit_code = Server(settings).run()
        sys.stdout.flush()
    return exit_code


def _check_startup(settings: config.Settings, artifact: Artifact) -> None:
    catalog = artifact.bundled_catalog
    unknown = unknown_cards(catalog, settings.default_cards or ())
    if unknown:
        listed = ", ".join(repr(card) for card in unknown)
        raise ArtifactError(f"DEFAULT_CARDS names cards the bundled catalogue lacks: {listed}")
    rows = select_cards(catalog, None, settings.default_cards)
    log.info(
        "model loaded",
        extra={
            "model_version": artifact.metadata.model_version,
            "catalog_version": catalog.version,
            "predictor": artifact.predictor.kind,
            "csv_output_columns": [catalog.card_ids[i] for i in rows],
        },
    )
    running = supervisor.running_mms_pid()
    if running is not None:
        raise OSError(f"another multi-model-server (pid {running}) is running on this host; MMS allows one per host")
    for host, port in ((settings.bind_host, settings.port), ("127.0.0.1", settings.management_port)):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                raise OSError(f"port {port} on {host} is already in use") from None


class Server:
    """Runs start_model_server with our process handling patched in (the toolkit reads them at call time)."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.java: psutil.Process | None = None
        self.watchdog: supervisor.BackendWatchdog | None = None
        self.stopping = False
        self.exit_code = 0

    def run(self) -> int:
        supervisor.become_subreaper()
        supervisor.clean_stale_files()
        supervisor.install_sigterm(self.request_stop)
        patches.take_over_processes(self._find_java, self._adopt, supervisor.install_reaper)
        try:
            patches.model_server().start_model_server(handler_service=HANDLER_SERVICE)
            if not self.stopping:
                log.error("MMS exited on its own")
                self.exit_code = 1
        except psutil.NoSuchProcess:  # the toolkit's wait() lost the race with our reaper: Java has exited
            if not self.stopping:
                log.error("MMS exited on its own")
                self.exit_code = 1
        except Exception as error:
            log.error("MMS failed to start", extra={"reason": str(error)})
            self.exit_code = 1
        finally:
            if self.watchdog is not None:
                self.watchdog.stopped.set()
            supervisor.stop_tree(self.java)
        log.info("stopped", extra={"exit_code": self.exit_code})
        return self.exit_code

    def _find_java(self, startup_timeout: int) -> psutil.Process:
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            try:
                return model_server_process()
            except LookupError:
                time.sleep(0.1)
        raise TimeoutError(f"MMS did not start within {startup_timeout} s")

    def _adopt(self, java: psutil.Process) -> None:
        self.java = java
        self.watchdog = supervisor.BackendWatchdog(java, self._fatal)
        self.watchdog.start()
        management = f"http://127.0.0.1:{self.settings.management_port}"
        threading.Thread(
            target=lambda: supervisor.confirm_model_registered(management, self._fatal),
            name="model-registration",
            daemon=True,
        ).start()
        if self.stopping:  # SIGTERM arrived while MMS was starting
            java.terminate()

    def request_stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        if self.java is None:
            return  # _adopt stops Java as soon as it appears
        log.info("SIGTERM: draining in-flight requests")
        drained = supervisor.wait_until_idle(self.settings.control_dir, self.settings.port, self.settings.drain_seconds)
        # The workers' last metrics interval, printed while Java still relays their stdout.
        metrics_flushed = metrics_publisher.flush_workers(self.settings.control_dir)
        log.info("stopping MMS", extra={"drained": drained, "metrics_flushed": metrics_flushed})
        self.java.terminate()

    def _fatal(self, reason: str) -> None:
        if self.stopping:  # a signal to the whole process group also stops the backend: that is no failure
            return
        log.error("exiting so the platform replaces this container", extra={"reason": reason})
        self.exit_code = 1
        self.stopping = True
        if self.java is not None:
            self.java.terminate()


def model_server_process() -> psutil.Process:
    """The MMS Java frontend among this process's descendants."""
    for process in supervisor.descendants():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and supervisor.MMS_MAIN_CLASS in process.cmdline():
                return process
        except psutil.Error:
            continue
    raise LookupError("MMS is not running")
