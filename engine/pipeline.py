"""The path of one query, stage by stage::

    bind      query + catalog -> BoundQuery         (segwise.bind: names, types, measures)
    build     BoundQuery -> LogicalPlan             (segwise.planner.build: scans, operators, estimates)
    optimize  LogicalPlan -> LogicalPlan            (segwise.planner.optimize: the ordered rules)
    lower     LogicalPlan -> sqlglot expression     (segwise.lower: one module per operator family)
    render    expression -> SQL text, once          (the target flavor)

then ``execute`` guards and runs the text once and shapes the Arrow answer (segwise.execute).
:func:`plan` stops after ``optimize``; :func:`compile_query` goes on to the SQL. ``run``,
``compile``, ``explain``, the CLI and the server all come through here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bind import bind
from .compiled import CompiledQuery, OutputSeries
from .cost import load_coefficients
from .errors import CatalogError, SpecError, UnsupportedError
from .lower import lower
from .planner import RULES, build, optimize
from .query import Query
from .registry import get_flavor, optimizer_rules, plan_rules
from .rules.context import Context
from .timeframe import resolve_timeframe

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .bind import BoundQuery
    from .loaded import LoadedProject
    from .plan import LogicalPlan


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
    return _planned(query, project, dialect, now, rollups, share_scans, disabled_rules, preaggregate)[2]


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
    ``sharing``; see docs/planner.md)."""
    flavor, bound, optimized = _planned(
        query, project, dialect, now, rollups, share_scans, disabled_rules, preaggregate
    )
    statement = lower(bound, optimized, flavor)
    outputs = tuple(OutputSeries(n.label, n.measure, n.tf, previous=n.previous) for n in optimized.nodes)
    compiled = CompiledQuery(
        sql="",
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
    )
    for rule in plan_rules():  # plugins' statement rewrites (segwise_plan_rules)
        statement = rule(statement, compiled)
    return CompiledQuery(**{**vars(compiled), "sql": flavor.render(statement), "expression": statement})


def _planned(
    query: Query | dict[str, Any] | str | Path,
    project: LoadedProject,
    dialect: str | None,
    now: datetime | str | None,
    rollups: bool,
    share_scans: str,
    disabled_rules: frozenset[str] | tuple[str, ...],
    preaggregate: str,
) -> tuple[SqlFlavor, BoundQuery, LogicalPlan]:
    q = Query.parse(query)
    adapter = project.adapter()
    flavor: SqlFlavor = adapter.flavor if dialect is None or dialect == adapter.flavor.name else get_flavor(dialect)
    catalog = project.catalog()  # errors here are about the project, not the query
    try:
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
        bound = bind(project, catalog, q, timeframe, flavor)
        costs = load_coefficients(project, flavor.name)
        context = Context(bound, costs, rollups, share_scans, frozenset(disabled_rules), preaggregate)
        return flavor, bound, optimize(build(bound), context, extra)
    except (SpecError, CatalogError, UnsupportedError) as exc:
        if q.origin != "query" and not (exc.where or "").startswith(q.origin):
            exc.where = f"{q.origin}: {exc.where}" if exc.where else q.origin
        raise
