"""A real Spark Connect server on loopback, for the whole test session, stopped by PID.

``connect_server`` (a session fixture) starts ``SparkConnectServer`` from PySpark's own
distribution (``bin/spark-submit``, which execs the JVM: its PID is the server's) in ``local[1]``:
one task slot, so a statement that is not stopped keeps every later one waiting. Its web UI is on
a free port, and :class:`ConnectServer` reads the server's jobs and stages from the UI's REST API
(``/api/v1/applications/<id>/jobs``): what the tests use to prove the server stopped working.
Skips when PySpark or Java is missing, and fails instead under ``SEGWISE_REQUIRE_SPARK=1``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.spark_cluster import START_TIMEOUT_S, _port_open, _unavailable, free_port, spark_home

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


class ConnectServer:
    """The running server: ``url`` (``sc://127.0.0.1:PORT``) and its REST API."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.ui_port = free_port()
        self.url = f"sc://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._app: str | None = None

    def start(self) -> None:
        home = spark_home()
        env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_CONNECT_MODE": "0",  # as sbin/start-connect-server.sh: the server is classic Spark
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable,
        }
        conf = {
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.ui.enabled": "true",
            "spark.ui.port": str(self.ui_port),
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": "768m",
        }
        args = ["--class", SERVER_CLASS, "--name", "segwise tests Spark Connect", "--master", "local[1]"]
        for key, value in conf.items():
            args += ["--conf", f"{key}={value}"]
        log = (self.directory / "connect-server.log").open("wb")
        self.process = subprocess.Popen(  # its own process group: stopping it never signals pytest
            ["bash", str(home / "bin" / "spark-submit"), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.directory,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S * 2
        while not (_port_open(self.port) and self._application()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the Spark Connect server did not start:\n{self.log_tail()}", pytrace=False)
            time.sleep(0.3)

    def log_tail(self) -> str:
        path = self.directory / "connect-server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-20:]) if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM the JVM by its PID, SIGKILL it after 20 s."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.process = None

    # -- the REST API --------------------------------------------------------------------------

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/api/v1/{path}", timeout=5) as answer:
            return json.load(answer)

    def _application(self) -> str | None:
        if self._app is None:
            with contextlib.suppress(OSError, ValueError, IndexError, KeyError):
                self._app = str(self._get("applications")[0]["id"])
        return self._app

    def jobs(self, tag: str | None = None) -> list[dict[str, Any]]:
        """The server's jobs (newest first), or those of the statements tagged ``tag``."""
        jobs: list[dict[str, Any]] = self._get(f"applications/{self._application()}/jobs")
        if tag is None:
            return jobs
        return [job for job in jobs if any(tag in job_tag for job_tag in job.get("jobTags", []))]

    def busy(self) -> str | None:
        """What the server is still working on (running jobs, active stages), or None when idle."""
        running = [job["jobId"] for job in self.jobs() if job["status"] == "RUNNING"]
        stages = [stage["stageId"] for stage in self._get(f"applications/{self._application()}/stages?status=active")]
        return f"jobs {running} running, stages {stages} active" if running or stages else None

    def wait_idle(self, within: float, settle: float = 1.5) -> float:
        """Wait until the server has been idle for ``settle`` s in a row (a job that starts late is
        seen); fail with what runs if that takes more than ``within`` s. Returns the seconds waited."""
        started = time.monotonic()
        idle_since: float | None = None
        while True:
            now = time.monotonic()
            working = self.busy()
            if working is None:
                idle_since = now if idle_since is None else idle_since
                if now - idle_since >= settle:
                    return idle_since - started
            else:
                idle_since = None
            assert now - started < within + settle, f"the Spark Connect server is still busy: {working}"
            time.sleep(0.1)


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    """A Spark Connect server (``local[1]``) for the whole test session."""
    try:
        home = spark_home()
    except ImportError:
        _unavailable("PySpark is not installed (pip install 'segwise[spark]')")
    try:
        import pyspark.sql.connect.session  # noqa: F401
    except ImportError as exc:
        _unavailable(f"PySpark's Spark Connect client is not installed ({exc})")
    from segwise.adapters.spark import java_available

    if not java_available():
        _unavailable("Spark Connect needs Java 17+ and there is none here (no JAVA_HOME, no java on PATH)")
    if not (home / "bin" / "spark-submit").exists():
        _unavailable(f"this PySpark has no bin/spark-submit ({home})")
    server = ConnectServer(tmp_path_factory.mktemp("spark-connect"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
