"""``segwise.Project``: a project's declarations (``segwise.project.ProjectSpec``) with its open
warehouse (adapter and catalog, opened on first use, shared by threads), and ``segwise.run``.

The top of the query path: it calls the stages (``segwise.pipeline``, ``segwise.execute``),
which know a loaded project only as the protocol ``segwise.loaded.LoadedProject``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from .cache import ResultCache
from .catalog import Catalog
from .execute import answer
from .files import file_tables
from .loaded import LoadedProject
from .pipeline import compile_query
from .project import CacheSpec
from .registry import open_adapter

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa

    from segwise.adapters.base import Adapter
    from segwise.adapters.filetables import FileTable

    from .query import Query


class Project(LoadedProject):
    """Where the events live. Load with ``Project.load("segwise.yaml")`` or build in Python.

    >>> p = Project(warehouse="duckdb:///:memory:",
    ...             event_tables=[{"table": "events", "event_name": "event_type"}])
    >>> p.timezone
    'UTC'
    """

    _adapter: Adapter | None = PrivateAttr(default=None)
    _catalog: Catalog | None = PrivateAttr(default=None)
    _files: dict[str, FileTable] = PrivateAttr(default_factory=dict)  # file: tables, resolved at connect
    _open_lock: Any = PrivateAttr(default_factory=threading.RLock)  # threads share one adapter
    _results: ResultCache | None = PrivateAttr(default=None)  # kept across close(): entries carry their data version

    # -- warehouse ---------------------------------------------------------------------------

    def adapter(self) -> Adapter:
        """The connected adapter for ``warehouse`` (opened on first use, then reused; thread-safe)."""
        if self._adapter is None:
            with self._open_lock:
                if self._adapter is None:
                    files = file_tables(self)  # checked before connecting: errors name the path
                    self._files = {f.name: f for f in files}
                    adapter = open_adapter(self.warehouse, base_dir=self._base_dir, where=self._origin)
                    if files:
                        try:
                            adapter.attach_files(files)
                        except BaseException:
                            adapter.close()
                            raise
                    self._adapter = adapter
        return self._adapter

    def catalog(self, refresh: bool = False) -> Catalog:
        """Tables, columns, event names and properties discovered from the warehouse (cached)."""
        if self._catalog is None or refresh:
            with self._open_lock:
                if self._catalog is None or refresh:
                    self._catalog = Catalog.discover(self, self.adapter(), self._files)
        return self._catalog

    def result_cache(self) -> ResultCache:
        """The result cache (``segwise.cache``), made on first use from ``cache:`` (thread-safe)."""
        if self._results is None:
            with self._open_lock:
                if self._results is None:
                    spec = self.cache if isinstance(self.cache, CacheSpec) else CacheSpec()
                    self._results = ResultCache(max_bytes=spec.max_bytes, ttl=spec.ttl)
        return self._results

    def close(self) -> None:
        with self._open_lock:
            if self._adapter is not None:
                self._adapter.close()
                self._adapter = None
                self._catalog = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- questions ---------------------------------------------------------------------------

    def compile(
        self,
        query: Query | dict[str, Any] | str | Path,
        dialect: str | None = None,
        now: datetime | str | None = None,
        rollups: bool = True,
    ) -> str:
        """The SQL segwise would run for ``query`` (in ``dialect``, default the warehouse's)."""
        return compile_query(self, query, dialect=dialect, now=now, rollups=rollups).sql

    def run(
        self,
        query: Query | dict[str, Any] | str | Path,
        now: datetime | str | None = None,
        timeout: float | None = None,
        rollups: bool = True,
        cache: bool | None = None,
    ) -> pa.Table:
        """Answer ``query``: a long-form ``pyarrow.Table`` (see DESIGN.md, "Result").

        ``timeout``: seconds each statement may run before it is cancelled on the warehouse.
        ``cache``: the result cache (``segwise.cache``): None as the project file says (off unless
        ``cache:`` is given), True on unless ``cache: false``, False off.
        """
        return answer(query, self, now=now, timeout=timeout, rollups=rollups, cache=cache)


def run(
    query: Query | dict[str, Any] | str | Path,
    project: Project | dict[str, Any] | str | Path,
    now: datetime | str | None = None,
    timeout: float | None = None,
    rollups: bool = True,
    share_scans: str = "auto",
    disabled_rules: frozenset[str] | tuple[str, ...] = (),
    preaggregate: str = "auto",
    cache: bool | None = None,
) -> pa.Table:
    """Answer ``query`` on ``project``'s warehouse; see DESIGN.md "Result" for the shape.

    ``project``: a ``Project``, a dict, or the path of a project file. ``timeout``: seconds each
    statement may run before it is cancelled (docs/reliability.md). ``rollups=False``: read raw
    events even where a declared rollup could answer; ``share_scans``, ``preaggregate`` and
    ``disabled_rules``: planner choices (see ``segwise.compile_query``). ``cache``: the result
    cache (see ``Project.run``).

    >>> table = run("examples/daily_active_users.yaml", "examples/segwise.yaml")  # doctest: +SKIP
    """
    return answer(
        query,
        Project.parse(project),
        now=now,
        timeout=timeout,
        rollups=rollups,
        share_scans=share_scans,
        disabled_rules=disabled_rules,
        preaggregate=preaggregate,
        cache=cache,
    )
