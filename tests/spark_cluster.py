"""A real Spark standalone cluster on loopback: one master and one worker, started from PySpark's
own distribution (``bin/spark-class``), stopped by PID.

``spark_cluster`` (a session fixture) yields the master's URL, ``spark://127.0.0.1:PORT``. It
skips when PySpark or Java is missing and fails instead under ``SEGWISE_REQUIRE_SPARK=1``; a
master or worker that does not come up fails the test either way (with the end of its log).

Memory is kept small: each daemon JVM 256 MB (``SPARK_DAEMON_MEMORY``), the worker offers 2
cores and 1 GB to executors, and a driver asks for one 512 MB executor with 2 cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 90.0
CLUSTER_CONFIG = {  # for a driver on this cluster (tests/backends.py adds them to the session)
    "spark.executor.memory": "512m",
    "spark.executor.cores": "2",
    "spark.cores.max": "2",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _unavailable(reason: str) -> None:
    if os.environ.get("SEGWISE_REQUIRE_SPARK") == "1":
        pytest.fail(f"{reason}, and SEGWISE_REQUIRE_SPARK=1", pytrace=False)
    pytest.skip(reason)


def _alive_workers(webui_port: int) -> int:
    """Workers the master lists as ALIVE (its web UI's JSON)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{webui_port}/json/", timeout=2) as answer:
            state = json.load(answer)
    except (OSError, ValueError):
        return 0
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


class Cluster:
    """The running master and worker processes (their PIDs are the JVMs': spark-class execs java)."""

    def __init__(self, directory: Path, worker_memory: str = "1g") -> None:
        self.directory = directory
        self.worker_memory = worker_memory  # what the worker offers its executors
        self.port = free_port()
        self.webui_port = free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        home = spark_home()
        self.spark_class = str(home / "bin" / "spark-class")
        self.env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_WORKER_DIR": str(directory / "work"),
            "SPARK_NO_DAEMONIZE": "1",
        }

    def _start(self, name: str, *args: str) -> None:
        log = (self.directory / f"{name}.log").open("wb")
        process = subprocess.Popen(  # its own process group: stopping it never signals pytest
            ["bash", self.spark_class, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        self.processes.append(process)

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:])
            for path in sorted(self.directory.glob("*.log"))
        )

    def start(self) -> None:
        self._start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.webui_port),
        )  # fmt: skip
        self._wait(lambda: _port_open(self.port), "the master")
        self._start(
            "worker",
            "org.apache.spark.deploy.worker.Worker",
            "--host", "127.0.0.1", "--cores", "2", "--memory", self.worker_memory,
            "--webui-port", str(free_port()), self.url,
        )  # fmt: skip
        self._wait(lambda: _alive_workers(self.webui_port) >= 1, "the worker")

    def _wait(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():  # type: ignore[operator]
            dead = [p for p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the Spark standalone cluster did not start ({what}):\n{self.log_tail()}", pytrace=False)
            time.sleep(0.3)

    def stop(self) -> None:
        """SIGTERM each JVM by its PID (the worker first), then SIGKILL what is left after 20 s."""
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)
        self.processes.clear()


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a master with one worker, for the whole test session."""
    try:
        home = spark_home()
    except ImportError:
        _unavailable("PySpark is not installed (pip install 'segwise[spark]')")
    from segwise.adapters.spark import java_available

    if not java_available():
        _unavailable("a Spark cluster needs Java 17+ and there is none here (no JAVA_HOME, no java on PATH)")
    if not (home / "bin" / "spark-class").exists():
        _unavailable(f"this PySpark has no bin/spark-class ({home})")
    cluster = Cluster(tmp_path_factory.mktemp("spark-cluster"))
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()
