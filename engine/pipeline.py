"""The path of one query, stage by stage::

    bind      query + catalog -> BoundQuery         (segwise.bind: names, types, measures)
    build     BoundQuery -> LogicalPlan             (segwise.planner.build: scans, operators, estimates)
    optimize  LogicalPlan -> LogicalPlan            (segwise.planner.optimize: the ordered rules)
    lower     LogicalPlan -> sqlglot expression     (segwise.lower: one module per operator family)
    render    expression -> SQL text, once          (the target flavor)

then ``execute`` guards and runs the text once and shapes the Arrow answer (segwise.execute).
:func:`plan` stops after ``optimize``; :func:`compile_query` goes on to the SQL, and keeps what
it compiled in a bounded cache (:class:`CompiledCache`) so that asking the same question again
skips bind, build, optimize, lower and render. ``run``, ``compile``, ``explain``, the CLI and the
server all come through here.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bind import bind
from .compiled import CompiledQuery, OutputSeries
from .cost import load_coefficients
from .errors import CatalogError, SpecError, UnsupportedError
from .lower import lower
from .planner import RULES, Rule, build, optimize
from .query import Query
from .registry import get_flavor, get_plugin_manager, optimizer_rules, plan_rules
from .rules.context import Context
from .timeframe import resolve_timeframe

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .bind import BoundQuery
    from .catalog import Catalog
    from .cost import Coefficients
    from .loaded import LoadedProject
    from .plan import LogicalPlan
    from .timeframe import Timeframe


def plan(
    query: Query | dict[str, Any] | str | Path,
    project: LoadedProject,
    dialect: str | None = None,
    now: datetime | str | None = None,
    rollups: bool = True,
    share_scans: str = "auto",
    disabled_rules: frozenset[str] | tuple[str, ...] = (),
    preaggregate: str = "auto",
) -> LogicalPlan:
    """The optimized logical plan of ``query`` (what ``segwise explain`` prints).

    >>> plan = segwise.plan({"series": [{"event": "signup"}], "date_range": {"last": "30d"}}, project)
    >>> print("\\n".join(plan.describe()))
    """
    inputs = _inputs(query, project, dialect, now, rollups, share_scans, disabled_rules, preaggregate)
    return _optimized(inputs, project)[1]


def compile_query(
    project: LoadedProject,
    query: Query | dict[str, Any] | str | Path,
    dialect: str | None = None,
    now: datetime | str | None = None,
    rollups: bool = True,
    share_scans: str = "auto",
    disabled_rules: frozenset[str] | tuple[str, ...] = (),
    preaggregate: str = "auto",
) -> CompiledQuery:
    """Validate ``query`` against the project's catalog, plan it and build its SQL.

    ``rollups=False`` reads raw events even where a declared rollup could answer;
    ``share_scans`` and ``preaggregate``: ``auto`` (by the cost model), ``always`` or ``never``;
    ``disabled_rules``: planner rules to skip (``rollups``, ``partitions``, ``preaggregate``,
    ``sharing``; see docs/planner.md).

    A query compiled before with the same inputs comes from :data:`COMPILED` (see
    :class:`CompiledCache`): bind, build, optimize, lower and render are skipped. Plugins'
    statement rewrites (``segwise_plan_rules``) are applied afresh on every call, to a copy (a
    rewrite may depend on state of its own); the cache holds the statement before them. A relative
    range resolved against the clock (``now`` not given) is never cached."""
    inputs = _inputs(query, project, dialect, now, rollups, share_scans, disabled_rules, preaggregate)
    rules = tuple(plan_rules())  # plugins' statement rewrites (segwise_plan_rules)
    key = None
    if now is not None or inputs.timeframe.now is None:  # the range does not move with the clock
        # Measures, dialects and rewrites come from plugins: one registered or removed is a miss.
        key = inputs.key(project, frozenset(get_plugin_manager().get_plugins()))
        try:
            hash(key)
        except TypeError:  # a plugin that cannot be hashed: not cached
            key = None
    compiled = COMPILED.get(key, project, inputs.catalog) if key is not None else None
    if compiled is None:
        compiled = _lowered(inputs, project, render=not rules)
        if key is not None:
            COMPILED.put(key, project, inputs.catalog, compiled)
    if not rules:
        return compiled if compiled.sql else replace(compiled, sql=inputs.flavor.render(compiled.expression))
    statement = compiled.expression.copy()
    for rule in rules:
        statement = rule(statement, compiled)
    # a rewritten statement's rows are not the plan's: the guard's LIMIT is sent (max_rows None)
    return replace(compiled, sql=inputs.flavor.render(statement), expression=statement, max_rows=None)


def _lowered(inputs: _Inputs, project: LoadedProject, render: bool) -> CompiledQuery:
    """bind, build, optimize, lower and (``render``) render: the compiled query before plugins'
    statement rewrites."""
    bound, optimized = _optimized(inputs, project)
    flavor = inputs.flavor
    statement = lower(bound, optimized, flavor)
    outputs = tuple(OutputSeries(n.label, n.measure, n.tf, previous=n.previous) for n in optimized.nodes)
    return CompiledQuery(
        sql=flavor.render(statement) if render else "",
        expression=statement,
        query=bound.query,
        timeframe=bound.timeframe,
        labels=tuple(o.label for o in outputs),
        measures=tuple(o.measure for o in outputs),
        breakdown=tuple(bound.query.breakdown),
        dialect=flavor.name,
        outputs=outputs,
        decisions=tuple(optimized.decisions),
        plan=optimized,
        max_rows=optimized.max_rows,
    )


@dataclass(frozen=True)
class _Inputs:
    """What the stages start from: the parsed query, the target flavor, the catalog, the options
    (checked), the resolved time frame and the cost model."""

    query: Query
    flavor: SqlFlavor
    catalog: Catalog
    options: tuple[bool, str, frozenset[str], str]  # rollups, share_scans, disabled_rules, preaggregate
    timeframe: Timeframe
    costs: Coefficients
    extra: tuple[tuple[str, Rule], ...] = ()  # plugins' planner rules, run after the built-ins

    def key(self, project: LoadedProject, plugins: frozenset[Any]) -> tuple[Any, ...]:
        """The compiled-query cache key: everything the SQL depends on. The query by its canonical
        form (the ``repr`` of the parsed model: every field, with its type) and where it came from;
        the project and its catalog by identity (checked again on a hit, see CompiledCache)."""
        q = self.query
        identity = (id(project), id(self.catalog), self.flavor.name)
        return (*identity, q.canonical(), q.origin, self.timeframe, self.options, self.costs, plugins)


def _inputs(
    query: Query | dict[str, Any] | str | Path,
    project: LoadedProject,
    dialect: str | None,
    now: datetime | str | None,
    rollups: bool,
    share_scans: str,
    disabled_rules: frozenset[str] | tuple[str, ...],
    preaggregate: str,
) -> _Inputs:
    q = Query.parse(query)
    adapter = project.adapter()
    flavor: SqlFlavor = adapter.flavor if dialect is None or dialect == adapter.flavor.name else get_flavor(dialect)
    catalog = project.catalog()  # errors here are about the project, not the query
    with _located(q):
        for option, value in (("share_scans", share_scans), ("preaggregate", preaggregate)):
            if value not in ("auto", "always", "never"):
                raise SpecError(f"{option} must be auto, always or never, not {value!r}", where=option)
        builtin = [name for name, _rule in RULES]
        extra = optimizer_rules(builtin)
        known = [*builtin, *(name for name, _rule in extra)]
        unknown = sorted(set(disabled_rules) - set(known))
        if unknown:
            raise SpecError(f"unknown planner rule(s) {', '.join(unknown)}; the rules are {', '.join(known)}")
        timeframe = resolve_timeframe(q, project.timezone, project.week_start_index, now)
        costs = load_coefficients(project, flavor.name)
    options = (rollups, share_scans, frozenset(disabled_rules), preaggregate)
    return _Inputs(q, flavor, catalog, options, timeframe, costs, extra)


def _optimized(inputs: _Inputs, project: LoadedProject) -> tuple[BoundQuery, LogicalPlan]:
    """bind, build, optimize."""
    with _located(inputs.query):
        bound = bind(project, inputs.catalog, inputs.query, inputs.timeframe, inputs.flavor)
        rollups, share_scans, disabled_rules, preaggregate = inputs.options
        context = Context(bound, inputs.costs, rollups, share_scans, disabled_rules, preaggregate)
        return bound, optimize(build(bound), context, inputs.extra)


@contextmanager
def _located(q: Query) -> Iterator[None]:
    """Errors about the query name the file it came from."""
    try:
        yield
    except (SpecError, CatalogError, UnsupportedError) as exc:
        if q.origin != "query" and not (exc.where or "").startswith(q.origin):
            exc.where = f"{q.origin}: {exc.where}" if exc.where else q.origin
        raise


# -- the compiled-query cache ---------------------------------------------------------------------

COMPILED_CACHE_SIZE = 256  # compiled queries kept (least recently used first out)


@dataclass(frozen=True)
class _Entry:
    project: weakref.ref[LoadedProject]
    catalog: weakref.ref[Catalog]
    compiled: CompiledQuery


class CompiledCache:
    """A bounded LRU of compiled queries, shared by threads (the server compiles on several).

    The key (``_Inputs.key``) holds everything the statement depends on: the query's canonical form
    and origin, the project and its catalog, the flavor, the resolved time frame (a relative range
    with ``now`` resolved first, so a cached statement never answers another range), the planner
    options, the cost coefficients and the registered plugins (one registered or removed later is a
    miss; their statement rewrites are applied after the cache, see compile_query). The project
    and the catalog are keyed by identity and held weakly: a hit needs the very same objects alive,
    so a refreshed catalog (``project.catalog(refresh=True)``, a rollup build, ``close()``) is a
    miss, and an address reused after an object is gone never matches. A cached ``CompiledQuery``
    is shared: nothing may change it (its expression is copied before a rewrite or a limit).
    """

    def __init__(self, size: int = COMPILED_CACHE_SIZE) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()

    def get(self, key: tuple[Any, ...], project: LoadedProject, catalog: Catalog) -> CompiledQuery | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.project() is not project or entry.catalog() is not catalog:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.compiled

    def put(self, key: tuple[Any, ...], project: LoadedProject, catalog: Catalog, compiled: CompiledQuery) -> None:
        with self._lock:
            self._entries[key] = _Entry(weakref.ref(project), weakref.ref(catalog), compiled)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


COMPILED = CompiledCache()
