"""A PostgreSQL server for the tests, started once per session and only when a test needs it.

Where the server comes from, in order:

1. ``SEGWISE_POSTGRES_DSN`` (an existing server; datasets go into their own schemas there);
2. a throwaway cluster from the local binaries (``initdb``/``pg_ctl``, run as the ``postgres``
   user when the tests run as root), in a fresh directory under ``/tmp`` on a free port, with
   ``fsync=off``; stopped and deleted at exit;
3. a testcontainers PostgreSQL when a Docker engine answers;
4. otherwise the test is skipped, unless ``SEGWISE_REQUIRE_POSTGRES=1``, where it fails loudly.

Use the ``postgres_server`` fixture (re-export it from ``conftest.py``) or call
:func:`postgres_dsn` directly (what ``tests/backends.py`` does, so parametrized suites need no
extra fixture).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV_DSN = "SEGWISE_POSTGRES_DSN"
ENV_REQUIRE = "SEGWISE_REQUIRE_POSTGRES"
USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No way to get a PostgreSQL server here; the message says what was tried."""


@dataclass
class PostgresServer:
    dsn: str  # superuser (or given) DSN to the maintenance database
    origin: str  # "env", "local cluster" or "testcontainers"
    started_in: float = 0.0  # seconds it took to obtain the server
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.dsn).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.dsn).port or 5432

    def with_credentials(self, user: str | None = None, password: str | None = None) -> str:
        """The DSN with another user and/or password (to test refused logins)."""
        parts = urlsplit(self.dsn)
        login = user if user is not None else (parts.username or USER)
        secret = password if password is not None else (parts.password or "")
        netloc = f"{login}:{secret}@{parts.hostname}:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def stop(self) -> None:
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


_server: PostgresServer | None = None
_failure: str | None = None


def get_server() -> PostgresServer:
    """The session's server (started on first call); raise PostgresUnavailable if there is none."""
    global _server, _failure
    if _server is not None:
        return _server
    if _failure is not None:
        raise PostgresUnavailable(_failure)
    began = time.monotonic()
    reasons: list[str] = []
    server: PostgresServer | None = None
    env = os.environ.get(ENV_DSN, "").strip()
    if env:
        server = PostgresServer(env, "env")
    else:
        for start in (_start_local_cluster, _start_container):
            try:
                server = start()
                break
            except PostgresUnavailable as exc:
                reasons.append(str(exc))
    if server is None:
        _failure = "no PostgreSQL server for the tests: " + "; ".join(reasons)
        raise PostgresUnavailable(_failure)
    server.started_in = time.monotonic() - began
    atexit.register(server.stop)
    _server = server
    return server


def postgres_dsn() -> str:
    """The session server's DSN; skip the test (or fail, with SEGWISE_REQUIRE_POSTGRES=1) if none."""
    try:
        return get_server().dsn
    except PostgresUnavailable as exc:
        if os.environ.get(ENV_REQUIRE, "") not in ("", "0"):
            pytest.fail(f"{ENV_REQUIRE} is set but {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Session fixture: the DSN of a PostgreSQL server (see the module docstring)."""
    yield postgres_dsn()
    if _server is not None:
        _server.stop()


# -- a throwaway cluster from the local binaries ------------------------------------------------


def _find_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: _version_key(Path(p).parent.name))
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True)
        if (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    raise PostgresUnavailable("no PostgreSQL binaries (initdb) found; apt-get install -y postgresql")


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PREFIX = "segwise-pg-"
OWNER = "owner.pid"


def _reap_orphans(bindir: Path, prefix: list[str]) -> None:
    """Stop and delete clusters whose test process died without cleaning up (killed, timed out)."""
    for base in Path("/tmp").glob(PREFIX + "*"):
        try:
            owner = int((base / OWNER).read_text())
            os.kill(owner, 0)
            continue  # its process is alive (or the folder is being set up): not ours to touch
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            stop = [*prefix, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "-w", "stop"]
            subprocess.run(stop, capture_output=True, timeout=30, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _start_local_cluster() -> PostgresServer:
    bindir = _find_bindir()
    as_root = os.geteuid() == 0
    if as_root:
        try:
            account = pwd.getpwnam(USER)
        except KeyError:
            raise PostgresUnavailable(f"running as root but there is no {USER!r} user to run the server") from None
        prefix = ["runuser", "-u", USER, "--"]
    else:
        prefix = []
    _reap_orphans(bindir, prefix)
    # Under /tmp, not pytest's 0700 tmp_path: the server user needs +x on every parent folder.
    base = Path(tempfile.mkdtemp(prefix=PREFIX, dir="/tmp"))
    (base / OWNER).write_text(str(os.getpid()))
    base.chmod(0o755)
    data, run_dir, pwfile = base / "data", base / "run", base / "pwfile"
    password = secrets.token_hex(12)
    data.mkdir(mode=0o700)
    run_dir.mkdir(mode=0o700)  # socket and log: written by the server user
    pwfile.write_text(password + "\n")
    if as_root:
        for path in (data, run_dir, pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
    pwfile.chmod(0o600)

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False)

    try:
        common = ["-D", str(data), "-U", USER, "--auth-local=trust", "--auth-host=scram-sha-256"]
        common += [f"--pwfile={pwfile}", "--no-sync", "-E", "UTF8"]
        # An ICU default collation (like most production servers' en_US) makes text order differ
        # from code-point order, so tests see whether the adapter asks for COLLATE "C".
        init = run(str(bindir / "initdb"), *common, "--locale-provider=icu", "--icu-locale=und", "--locale=C.UTF-8")
        if init.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(mode=0o700)
            if as_root:
                os.chown(data, account.pw_uid, account.pw_gid)
            init = run(str(bindir / "initdb"), *common)
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        for _attempt in range(3):
            port = _free_port()
            options = (
                f"-p {port} -k {run_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c synchronous_commit=off -c max_connections=50"
            )
            started = run(
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(run_dir / "log"),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            )
            if started.returncode == 0:
                break
        else:
            log = (run_dir / "log").read_text(errors="replace")[-2000:] if (run_dir / "log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {log}")
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise PostgresUnavailable(f"cannot start a local PostgreSQL cluster: {exc}") from exc
    except PostgresUnavailable:
        shutil.rmtree(base, ignore_errors=True)
        raise

    def stop() -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop", timeout=30)
        shutil.rmtree(base, ignore_errors=True)

    dsn = f"postgresql://{USER}:{password}@127.0.0.1:{port}/postgres"
    return PostgresServer(dsn, "local cluster", _stop=stop)


# -- testcontainers -----------------------------------------------------------------------------


def _start_container() -> PostgresServer:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception as exc:  # no client library, no engine, no permission: all mean "not here"
        raise PostgresUnavailable(f"no Docker engine for testcontainers ({type(exc).__name__})") from None
    try:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine")
        container.start()
        url = container.get_connection_url(driver=None)
    except Exception as exc:
        raise PostgresUnavailable(f"testcontainers could not start PostgreSQL: {exc}") from exc
    return PostgresServer(url, "testcontainers", _stop=container.stop)
