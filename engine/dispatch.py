"""A compiled query to the project's warehouse: the tables a statement may read, the result-size
guardrails (``LIMIT MAX_RESULT_ROWS + 1``: too big is refused with a hint, never cut short — not
sent where the plan proves at most ``MAX_RESULT_ROWS`` rows, see :func:`statement_sql`; too
many breakdown groups), one guard walk (per compiled query: a cached one is walked once) and one
render. Statements leave through
``segwise.observe.execute_observed``."""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from segwise.adapters.base import TableRef

from .errors import SpecError
from .flight import Flights
from .guard import CheckedTree, check_tree
from .moving import moved_literals, probes, template
from .observe import execute_observed
from .rollups import state_ref

if TYPE_CHECKING:
    from collections.abc import Hashable

    from segwise.adapters.base import Adapter, SqlFlavor

    from .cache import Earlier, Lookup, ResultCache
    from .compiled import CompiledQuery
    from .loaded import LoadedProject

MAX_RESULT_ROWS = 1_000_000  # rows of a segmentation answer (in the warehouse's and in the filled result)
MAX_GROUPS = 10_000  # breakdown groups of one series without breakdown_limit

FLIGHTS: Flights[pa.Table] = Flights()
"""Statements in the air with the result cache in use: identical ones at once are sent once."""


def configured_tables(project: LoadedProject) -> list[TableRef]:
    names = [t.table for t in project.event_tables] + [t.table for t in project.user_tables]
    refs = [TableRef.parse(name) for name in names]
    if project.rollups:  # the planner may answer from a rollup (read-only, like any table)
        rollups = [TableRef.parse(r.table) for r in project.rollups]
        refs += rollups + [state_ref(r) for r in rollups]
    return refs


def execute_compiled(
    project: LoadedProject,
    compiled: CompiledQuery,
    timeout: float | None = None,
    cache: bool | None = None,
    lookup: Lookup | None = None,
) -> pa.Table:
    """Run a compiled query with the result-size guardrails; the raw (unshaped) Arrow table.

    The statement is sent with ``LIMIT MAX_RESULT_ROWS + 1``: getting the extra row means the
    answer is too big, which is refused with a hint, never returned cut short — unless the plan
    proves the answer has at most ``MAX_RESULT_ROWS`` rows (:func:`statement_sql`). The tree is guarded
    once (before anything else: a plan rule may have made anything) and rendered once, by the
    compiler: the limit is appended to that text where the flavor renders it as a plain suffix.

    ``cache``: the project's result cache (``segwise.cache``) — None as the project file says
    (``cache:``; off when left out), True on unless ``cache: false``, False off. It is keyed by
    that statement text and the tables it may read, and checked against the warehouse's data
    version read before the statement runs; a relative range's answer at an earlier "now" is
    served where ``segwise.moving`` proves it the same (see :func:`_proven`). A miss joins the
    statement's flight (``segwise.flight``): identical statements at once are sent once, each
    caller waiting ``timeout`` seconds at most. ``lookup`` is told what the cache did.
    """
    adapter = project.adapter()
    tables = configured_tables(project)
    checked = _checked_tree(compiled, tables)  # the guard first: nothing but a read is even rendered
    sql = statement_sql(adapter.flavor, compiled)
    if not _caching(project, cache):
        raw = _send(adapter, checked, sql, tables, timeout)
        check_result_size(raw, compiled)
        return raw
    store = project.result_cache()
    key = _cache_key(sql, tables)
    version = adapter.data_version(tables)  # before the statement: a change during it is a miss later
    cacheable = store.cacheable(version)
    found = store.get(key, version, count_miss=False) if cacheable else None
    moves = version is not None and compiled.timeframe.now is not None  # a range that moves with "now"
    shape = template(sql) if moves else None
    if found is None and shape is not None:
        found = _proven(adapter, store, key, version, shape, compiled, tables, timeout)
    if found is None and cacheable:
        store.miss()
    if lookup is not None:
        lookup.status = "hit" if found is not None else "miss" if cacheable else "uncacheable"
    if found is not None:
        check_result_size(found, compiled)
        return found

    def send() -> pa.Table:
        stored = store.get(key, version, count_miss=False) if cacheable else None
        if stored is not None:  # a flight of the same key landed between this caller's lookup and now
            return stored
        raw = _send(adapter, checked, sql, tables, None)  # the callers' deadlines decide (segwise.flight)
        check_result_size(raw, compiled)  # a refused answer is not kept
        store.put(key, version, raw, shape, compiled.expression)
        return raw

    raw, joined = FLIGHTS.run((key, version), send, timeout, adapter.name)
    if lookup is not None:
        lookup.shared = joined
    if joined:
        check_result_size(raw, compiled)
    return raw


def _proven(
    adapter: Adapter,
    store: ResultCache,
    key: Hashable,
    version: Hashable,
    shape: str,
    compiled: CompiledQuery,
    tables: list[TableRef],
    timeout: float | None,
) -> pa.Table | None:
    """The answer of an earlier "now" of the same question, where ``segwise.moving`` proves it is
    this statement's answer (:func:`_prove`). Counted as a hit then, and kept under the new key."""
    earlier = _prove(adapter, store, version, shape, compiled, tables, timeout)
    if earlier is None:
        return None
    store.moved(earlier, key, version, shape, compiled.expression)
    return earlier.table


def _prove(
    adapter: Adapter,
    store: ResultCache,
    version: Hashable,
    shape: str,
    compiled: CompiledQuery,
    tables: list[TableRef],
    timeout: float | None,
) -> Earlier | None:
    """The cached entry of an earlier "now" of the same question whose answer ``segwise.moving``
    proves is this statement's: only time literals moved, each a bound on a stored table's column,
    no row between the old and new bounds (probes sent like any statement), and the data version
    the same after the probes as before. Nothing is counted or stored."""
    earlier = store.earlier(shape, version)
    if earlier is None or earlier.statement is None:
        return None
    moved = moved_literals(earlier.statement, compiled.expression)
    if moved is None:
        return None
    statements = probes(compiled.expression, moved) if moved else []
    if statements is None:
        return None
    for probe in statements:
        sql = adapter.flavor.render(probe)
        if _send(adapter, check_tree(probe, tables), sql, tables, timeout).num_rows:
            return None  # a row tells the two "now"s apart
    if statements and adapter.data_version(tables) != version:
        return None  # the data changed while probing: what the probes saw proves nothing
    return earlier


def cache_state(project: LoadedProject, compiled: CompiledQuery, cache: bool | None = None) -> dict[str, Any]:
    """What the result cache would do for ``compiled`` now, as :func:`execute_compiled` decides it
    (``status``: off, hit, miss or uncacheable), and its counts so far (``explain --analyze``, the
    API's explain answer). A relative range's earlier "now" in the cache is proven as a run would
    prove it (:func:`_prove`: its probes are sent); nothing is counted, stored or reordered."""
    if not _caching(project, cache):
        return {"status": "off"}
    store = project.result_cache()
    adapter = project.adapter()
    tables = configured_tables(project)
    version = adapter.data_version(tables)
    sql = statement_sql(adapter.flavor, compiled)
    key = _cache_key(sql, tables)
    if not store.cacheable(version):
        status = "uncacheable"
    elif store.peek(key, version):
        status = "hit"
    elif version is not None and compiled.timeframe.now is not None:  # as execute_compiled: a moving range
        proven = _prove(adapter, store, version, template(sql), compiled, tables, None)
        status = "hit" if proven is not None else "miss"
    else:
        status = "miss"
    return {"status": status, **store.stats()}


def _cache_key(sql: str, tables: list[TableRef]) -> tuple[str, tuple[TableRef, ...]]:
    """A result's key: the exact statement sent and the tables it may read."""
    return sql, tuple(tables)


def _caching(project: LoadedProject, cache: bool | None) -> bool:
    """Whether a call uses the result cache: ``cache`` None as the project file says (off when
    ``cache:`` is left out), True unless it says ``cache: false``, False never."""
    return cache is not False and project.cache_settings(default=bool(cache)) is not None


def _send(adapter: Adapter, checked: CheckedTree, sql: str, tables: list[TableRef], timeout: float | None) -> pa.Table:
    return execute_observed(adapter, sql, tables=tables, timeout=timeout, checked=checked)


_CHECKED_SIZE = 256  # compiled queries whose guarded tree is remembered
_checked: OrderedDict[int, tuple[weakref.ref[CompiledQuery], tuple[TableRef, ...], CheckedTree]] = OrderedDict()
_checked_lock = threading.Lock()


def _checked_tree(compiled: CompiledQuery, tables: list[TableRef]) -> CheckedTree:
    """``check_tree(compiled.expression, tables)``, remembered per compiled query object: a query
    from the compiled-query cache (``segwise.pipeline.COMPILED``) has its tree walked once however
    often it runs; the text sent is still scanned every time (``check_statement``)."""
    key, allowed = id(compiled), tuple(tables)
    with _checked_lock:
        entry = _checked.get(key)
        if entry is not None and entry[0]() is compiled and entry[1] == allowed:
            _checked.move_to_end(key)
            return entry[2]
    checked = check_tree(compiled.expression, tables)
    with _checked_lock:
        _checked[key] = (weakref.ref(compiled), allowed, checked)
        _checked.move_to_end(key)
        while len(_checked) > _CHECKED_SIZE:
            _checked.popitem(last=False)
    return checked


def guard_limit(compiled: CompiledQuery) -> tuple[bool, str]:
    """Whether the row guard's ``LIMIT MAX_RESULT_ROWS + 1`` is sent with ``compiled``, and why
    (``segwise explain``): not where the plan proves at most ``MAX_RESULT_ROWS`` rows (the limit
    could cut nothing, and it can change the warehouse's plan)."""
    bound = compiled.max_rows
    if not _limit_needed(compiled):
        return False, f"not sent: the plan bounds the answer to {bound:,} rows <= {MAX_RESULT_ROWS:,}"
    why = "no bound on the answer's rows proven" if bound is None else f"the plan's bound {bound:,} rows"
    return True, f"LIMIT {MAX_RESULT_ROWS + 1:,} sent ({why}): one more row than {MAX_RESULT_ROWS:,} is refused"


def _limit_needed(compiled: CompiledQuery) -> bool:
    """Whether the plan leaves the answer's rows unbounded or above ``MAX_RESULT_ROWS``."""
    return compiled.max_rows is None or compiled.max_rows > MAX_RESULT_ROWS


def statement_sql(flavor: SqlFlavor, compiled: CompiledQuery) -> str:
    """The text sent for ``compiled``: as compiled where :func:`guard_limit` says the limit is not
    needed (the result cache keys on this text), else :func:`limited_sql`."""
    if _limit_needed(compiled):  # on every run: no message formatted here
        return limited_sql(flavor, compiled, MAX_RESULT_ROWS + 1)
    if compiled.sql and compiled.dialect == flavor.name:
        return compiled.sql
    return flavor.render(compiled.expression)


def limited_sql(flavor: SqlFlavor, compiled: CompiledQuery, limit: int = MAX_RESULT_ROWS + 1) -> str:
    """The compiled statement with ``LIMIT limit``, as ``flavor`` renders ``expression.limit(limit)``.

    Where the flavor renders a limit on this kind of statement as `` LIMIT n`` after the rest (checked
    once per flavor and statement type on a probe), that is appended to ``compiled.sql``; otherwise
    (a statement with a limit, or anything rendered after one, of its own: ClickHouse's SETTINGS; a
    dialect that wraps a limited UNION; another dialect than the compiled one) the tree is copied,
    limited and rendered."""
    statement = compiled.expression
    assert isinstance(statement, exp.Query), type(statement)
    plain = (
        compiled.sql
        and compiled.dialect == flavor.name
        and not any(statement.args.get(arg) for arg in _trailing_args(type(statement).__name__))
        and _limit_is_suffix(flavor.dialect, type(statement).__name__)
    )
    if plain:
        return f"{compiled.sql} LIMIT {int(limit)}"
    limited = statement.copy().limit(limit, copy=False)
    return flavor.render(limited)


@functools.cache
def _trailing_args(kind: str) -> tuple[str, ...]:
    """The statement's arguments rendered from LIMIT on (LIMIT, OFFSET, locks, SETTINGS, ...)."""
    names = list(getattr(exp, kind).arg_types)
    return tuple(names[names.index("limit") :]) if "limit" in names else tuple(names)


@functools.cache
def _limit_is_suffix(dialect: str, kind: str) -> bool:
    root = getattr(exp, kind)
    first = exp.select(exp.column("a", quoted=True)).from_(exp.table_("t", quoted=True))
    second = exp.select(exp.column("b", quoted=True)).from_(exp.table_("u", quoted=True))
    probe: exp.Query = exp.union(first, second, distinct=False) if issubclass(root, exp.SetOperation) else first
    if type(probe) is not root:
        return False
    plain = probe.sql(dialect=dialect)
    return probe.limit(7).sql(dialect=dialect) == f"{plain} LIMIT 7"


def check_result_size(raw: pa.Table, compiled: CompiledQuery) -> None:
    """Refuse answers beyond the guardrails (too many rows, too many breakdown groups)."""
    query = compiled.query
    if raw.num_rows > MAX_RESULT_ROWS:
        raise SpecError(
            f"the answer has more than {MAX_RESULT_ROWS:,} rows",
            where="breakdown" if query.breakdown else "time_grain",
            hint="set breakdown_limit, break down by fewer properties, use a coarser time_grain or a shorter range",
        )
    if not compiled.breakdown:
        return
    buckets = len(compiled.timeframe.buckets) if compiled.timeframe.grain != "total" else 1
    if raw.num_rows <= MAX_GROUPS and raw.num_rows * buckets <= MAX_RESULT_ROWS:
        return  # groups are at most the rows: neither limit below can be passed (nothing to count)
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    if "series" in raw.column_names:
        combos, largest = _groups(raw, ["series", *groups])
    else:  # another analysis (stickiness, lifecycle): one set of groups
        combos, _most = _groups(raw, groups)
        largest = combos
    if query.breakdown_limit is None and largest > MAX_GROUPS:
        raise SpecError(
            f"breaking down by {', '.join(compiled.breakdown)} gives {largest:,} groups in one series "
            f"(the limit without breakdown_limit is {MAX_GROUPS:,})",
            where="breakdown",
            hint="set breakdown_limit (for example breakdown_limit: 10) to keep the top groups and merge the rest "
            "into 'Other', or break down by a property with fewer values",
        )
    filled = combos * buckets
    if filled > MAX_RESULT_ROWS:
        raise SpecError(
            f"the answer would have {filled:,} rows once empty buckets are filled (the limit is {MAX_RESULT_ROWS:,})",
            where="breakdown",
            hint="set breakdown_limit, use a coarser time_grain or a shorter date_range",
        )


def _groups(raw: pa.Table, names: list[str]) -> tuple[int, int]:
    """How many distinct (series, breakdown values) the rows hold (nulls are one value), and the
    most any one series has: each column dictionary-encoded, the codes combined and counted in numpy."""
    key: np.ndarray | None = None
    series: np.ndarray | None = None
    for name in names:
        try:
            encoded = pc.dictionary_encode(raw[name].combine_chunks())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # a type without a hash kernel
            return _groups_by_acero(raw, names)
        codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64) + 1
        if key is None:
            key, series = codes, codes
        else:
            _, dense = np.unique(key, return_inverse=True)
            key = dense.reshape(-1) * (len(encoded.dictionary) + 1) + codes
    if key is None or not len(key):
        return 0, 0
    assert series is not None
    _, first = np.unique(key, return_index=True)
    return len(first), int(np.bincount(series[first]).max())


def _groups_by_acero(raw: pa.Table, names: list[str]) -> tuple[int, int]:
    combos = raw.select(names).group_by(names, use_threads=False).aggregate([])  # nulls group together
    per_series = combos.group_by("series", use_threads=False).aggregate([([], "count_all")])
    counts = per_series.column(per_series.num_columns - 1)
    return combos.num_rows, int(pc.max(counts).as_py() or 0) if len(counts) else 0
