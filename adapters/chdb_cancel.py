"""chDB statements: their settings (the timeout, a marker), and cancelling a running one from
another thread with ``KILL QUERY`` through a second session.

A chDB session runs one statement at a time: a ``KILL QUERY`` sent on the session that runs the
statement waits behind it. But chDB (4.x) runs every session of the process on one embedded
server, each session on a connection of its own, and they run concurrently; so a second session
on the same path sees the statement in ``system.processes`` and can kill it (checked on chDB
4.4.0: the statement fails at once with QUERY_WAS_CANCELLED, code 394; ``tests/test_clickhouse_cancel.py``).

chDB has no per-statement ``query_id`` (a client option of clickhouse-local, not a setting), so
each statement carries a unique ``log_comment`` setting, which ``system.processes`` shows in its
``Settings`` map, and the kill names it. The kill is ``ASYNC`` and repeated until the statement is
over (``cancel.RepeatedCancel``): a cancel that comes before the engine registered the statement
would otherwise find nothing to kill. The killing session is read-only (``readonly = 1``: a
read-only user may kill its own queries) and opened on the first cancel.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

from .cancel import RepeatedCancel

MARKER_SETTING = "log_comment"
KILL_SQL = "KILL QUERY WHERE Settings['log_comment'] = {marker:String} ASYNC"


# A SETTINGS clause of name = number pairs ending the statement (the flavor's ``join_use_nulls``)
_TRAILING_SETTINGS = re.compile(r"\sSETTINGS\s+[A-Za-z_]\w*\s*=\s*[\w.]+(?:\s*,\s*[A-Za-z_]\w*\s*=\s*[\w.]+)*\s*$")


def seconds(timeout: float) -> str:
    """A timeout as ClickHouse's ``max_execution_time`` (seconds; fractions allowed)."""
    return f"{max(timeout, 0.001):.3f}".rstrip("0").rstrip(".")


def with_max_execution_time(sql: str, timeout: float | None, marker: str | None = None) -> str:
    """``sql`` with ``max_execution_time`` (and a ``log_comment`` marker, chDB's name for the
    statement) in its (possibly new) trailing SETTINGS clause."""
    settings = [f"max_execution_time = {seconds(timeout)}"] if timeout is not None else []
    settings += [f"{MARKER_SETTING} = '{marker}'"] if marker else []
    if not settings:
        return sql
    setting = ", ".join(settings)
    return f"{sql}, {setting}" if _TRAILING_SETTINGS.search(sql) else f"{sql} SETTINGS {setting}"


def new_marker() -> str:
    """A statement's unique ``log_comment`` (letters, digits and dashes: safe as a literal)."""
    return f"segwise-{uuid.uuid4().hex}"


class ChdbKiller:
    """Kills an adapter's statements by their marker, through a second session on its path."""

    def __init__(self, session_class: Any, path: str) -> None:
        self._session_class = session_class
        self._path = path
        self._session: Any = None
        self._closed = False
        self._lock = threading.Lock()

    def canceller(self, marker: str) -> RepeatedCancel:
        return RepeatedCancel(lambda: self.kill(marker), name="segwise-chdb-kill")

    def kill(self, marker: str) -> None:
        with self._lock:  # one KILL at a time on the killing session (opened on first use)
            if self._closed:
                return
            if self._session is None:
                session = self._session_class(self._path)
                session.query("SET readonly = 1")
                self._session = session
            self._session.query(KILL_SQL, "CSV", params={"marker": marker})

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._session is not None:
                self._session.close()
                self._session = None
