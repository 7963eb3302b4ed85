"""The result cache: warehouse answers kept in memory, keyed by the statement sent and the
warehouse's data version (``cache:`` in the project file; docs/project.md, docs/explorer.md).

An answer is served from the cache only while the data it was computed from is unchanged:

* the **key** is the exact statement text that would be sent (``segwise.dispatch``: the compiled
  SQL with its ``LIMIT`` guardrail) and the tables it may read. A relative range (``last: 30d``)
  is resolved before compiling, so its statement holds its own "now": a later "now" is another
  statement. Its answer is served at the later "now" only when that is *proven* the same answer
  (``segwise.moving``): the two statements differ only in time literals that bound a stored
  table's own columns, one probe statement finds no row between the old and the new bounds (an
  event at the range's old start, a row dated between the two "now"s), and the data version is
  the same before and after the probe. So entries remember their statement's tree and a
  *template* (the text with its time literals masked, :func:`segwise.moving.template`), the
  newest entry per template being found by :meth:`ResultCache.earlier`; a proven answer is
  stored again under the new statement (its age kept);
* the **data version** is the adapter's (``Adapter.data_version``), read *before* the statement
  runs (a change during the run makes the stored answer look older than it is: a miss next time,
  never a stale hit). DuckDB: the database file's identity, size and modification time (and its
  write-ahead log's); SQLite: ``PRAGMA data_version`` and the same file facts; ``file:`` tables:
  every file's; PostgreSQL: the WAL insert position
  and the tables' ``pg_stat_user_tables`` counters. Warehouses without a version (an in-memory
  DuckDB, an application's own connection, ClickHouse, Spark, remote warehouses) are cached only
  when a ``ttl`` is set: then an answer may be up to ``ttl`` seconds old, which the project file
  asked for;
* ``ttl`` (seconds, optional) also bounds the age of every entry where there is a version;
* the size bound is in bytes (``pyarrow.Table.nbytes``), least recently used first out; an answer
  larger than the whole bound is not kept.

The clock is injectable (``ResultCache(clock=...)``) so tests can expire entries without sleeping.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_MAX_BYTES = 256 * 1024 * 1024

Status = Literal["off", "hit", "miss", "uncacheable"]
"""What happened to one statement: ``off`` (the cache is not in use), ``hit`` (answered from the
cache), ``miss`` (sent to the warehouse, its answer stored), ``uncacheable`` (sent; the warehouse has
no data version and no ``ttl`` is set, so nothing is stored)."""


@dataclass
class Lookup:
    """Filled in by ``segwise.dispatch.execute_compiled``: what the result cache did for one query."""

    status: Status = "off"
    shared: bool = False  # a miss that joined the run of an identical statement in the air (segwise.flight)


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    stored_at: float
    table: pa.Table
    nbytes: int
    template: str | None = None  # the statement with its time literals masked (segwise.moving)
    statement: Any = None  # the statement's sqlglot tree, for segwise.moving


@dataclass(frozen=True)
class Earlier:
    """An entry of the same template (``ResultCache.earlier``): its key, tree, answer and age."""

    key: Hashable
    statement: Any
    table: pa.Table
    stored_at: float


class ResultCache:
    """A thread-safe LRU of warehouse answers bounded in bytes, with an optional time to live."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.moved_hits = 0  # hits of a relative range at a later "now" (segwise.moving), among hits
        self.nbytes = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._templates: dict[str, Hashable] = {}  # template -> the key of its newest entry

    def cacheable(self, version: Hashable | None) -> bool:
        """Whether an answer read at data ``version`` may be kept: a version, or a ``ttl``."""
        return version is not None or self.ttl is not None

    def get(self, key: Hashable, version: Hashable | None, count_miss: bool = True) -> pa.Table | None:
        """The answer stored under ``key`` if it was read at ``version`` and is not older than
        ``ttl``; counts a hit or (``count_miss``) a miss (an entry of another version or too old is
        dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry.version != version or self._expired(entry)):
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += count_miss
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.table

    def peek(self, key: Hashable, version: Hashable | None) -> bool:
        """Whether ``get`` would hit, without counting or reordering anything."""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.version == version and not self._expired(entry)

    def put(
        self,
        key: Hashable,
        version: Hashable | None,
        table: pa.Table,
        template: str | None = None,
        statement: Any = None,
        stored_at: float | None = None,
    ) -> bool:
        """Keep ``table`` (read at ``version``); False when it is not kept (no version and no
        ``ttl``, or larger than the whole bound). ``template`` and ``statement``: the statement's
        (for an answer that may serve a later "now", see :meth:`earlier`); ``stored_at``: when the
        answer was read (default now; an answer proven for another statement keeps its age)."""
        if not self.cacheable(version):
            return False
        nbytes = table.nbytes
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if nbytes > self.max_bytes:
                return False
            when = self.clock() if stored_at is None else stored_at
            self._entries[key] = _Entry(version, when, table, nbytes, template, statement)
            if template is not None:
                self._templates[template] = key
            self.nbytes += nbytes
            while self.nbytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)
                self.evictions += 1
            return True

    def earlier(self, template: str, version: Hashable) -> Earlier | None:
        """The newest entry of ``template`` read at ``version`` and not older than ``ttl`` (nothing
        is counted or reordered): a candidate for ``segwise.moving``'s proof."""
        with self._lock:
            key = self._templates.get(template)
            entry = self._entries.get(key) if key is not None else None
            if entry is None or entry.version != version or self._expired(entry):
                return None
            return Earlier(key, entry.statement, entry.table, entry.stored_at)

    def moved(self, earlier: Earlier, key: Hashable, version: Hashable, template: str, statement: Any) -> None:
        """Count a hit of ``earlier``'s answer proven for the statement ``key`` and keep it under
        that key instead (its age kept): the next proof starts from the nearer "now"."""
        with self._lock:
            self.hits += 1
            self.moved_hits += 1
            if earlier.key in self._entries and earlier.key != key:
                self._drop(earlier.key)
        self.put(key, version, earlier.table, template, statement, stored_at=earlier.stored_at)

    def miss(self) -> None:
        """Count a miss found without :meth:`get` (``get(count_miss=False)``, then no proof)."""
        with self._lock:
            self.misses += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._templates.clear()
            self.nbytes = 0

    def stats(self) -> dict[str, int | float | None]:
        """Counts and sizes (``explain --analyze``, the API's explain answer)."""
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "entries": len(self._entries),
                "bytes": self.nbytes,
                "max_bytes": self.max_bytes,
                "evictions": self.evictions,
                "moved_hits": self.moved_hits,
                "ttl": self.ttl,
            }

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def _expired(self, entry: _Entry) -> bool:
        return self.ttl is not None and self.clock() - entry.stored_at >= self.ttl

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        self.nbytes -= entry.nbytes
        if entry.template is not None and self._templates.get(entry.template) == key:
            del self._templates[entry.template]


class PairMemo:
    """Values computed from two immutable objects, remembered by their identity while both are
    alive (held weakly; an address reused by another object never matches), the least recently
    used dropped beyond ``size``. ``segwise.execute`` keeps each cached answer's shaped table here,
    so a hit on the result cache is not shaped again."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, int], tuple[weakref.ref[Any], weakref.ref[Any], Any]] = OrderedDict()

    def get(self, first: object, second: object) -> Any | None:
        key = (id(first), id(second))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0]() is not first or entry[1]() is not second:
                return None
            self._entries.move_to_end(key)
            return entry[2]

    def put(self, first: object, second: object, value: Any) -> None:
        with self._lock:
            self._entries[(id(first), id(second))] = (weakref.ref(first), weakref.ref(second), value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
