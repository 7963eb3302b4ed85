"""The result cache: warehouse answers kept in memory, keyed by the statement sent and the
warehouse's data version (``cache:`` in the project file; docs/project.md, docs/explorer.md).

An answer is served from the cache only while the data it was computed from is unchanged:

* the **key** is the exact statement text that would be sent (``segwise.dispatch``: the compiled
  SQL with its ``LIMIT`` guardrail) and the tables it may read. A relative range (``last: 30d``)
  is resolved before compiling, so its statement holds its own "now": a later "now" is another
  statement, never a stale answer;
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


@dataclass(frozen=True)
class _Entry:
    version: Hashable
    stored_at: float
    table: pa.Table
    nbytes: int


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
        self.nbytes = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def cacheable(self, version: Hashable | None) -> bool:
        """Whether an answer read at data ``version`` may be kept: a version, or a ``ttl``."""
        return version is not None or self.ttl is not None

    def get(self, key: Hashable, version: Hashable | None) -> pa.Table | None:
        """The answer stored under ``key`` if it was read at ``version`` and is not older than
        ``ttl``; counts a hit or a miss (an entry of another version or too old is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry.version != version or self._expired(entry)):
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.table

    def peek(self, key: Hashable, version: Hashable | None) -> bool:
        """Whether ``get`` would hit, without counting or reordering anything."""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.version == version and not self._expired(entry)

    def put(self, key: Hashable, version: Hashable | None, table: pa.Table) -> bool:
        """Keep ``table`` (read at ``version``); False when it is not kept (no version and no
        ``ttl``, or larger than the whole bound)."""
        if not self.cacheable(version):
            return False
        nbytes = table.nbytes
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if nbytes > self.max_bytes:
                return False
            self._entries[key] = _Entry(version, self.clock(), table, nbytes)
            self.nbytes += nbytes
            while self.nbytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)
                self.evictions += 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
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
