"""Every hook segwise offers to plugins (project name and entry-point group ``segwise``).

Built-in adapters, dialects and measures are registered through these same hooks, by the modules
listed in ``segwise.registry.DEFAULT_PLUGINS``; a third-party package registers its own module
under the entry-point group ``segwise``. Each hook is documented in ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlglot import exp

    from segwise.adapters.base import Adapter, SqlFlavor

    from .hooktypes import CompiledStatement, CostEstimate, QueryEvent
    from .measures import MeasureDefinition

hookspec = pluggy.HookspecMarker("segwise")
hookimpl = pluggy.HookimplMarker("segwise")

# --------------------------------------------------------------------------------------------
# Warehouses
# --------------------------------------------------------------------------------------------


@hookspec
def segwise_adapters() -> list[type[Adapter]]:
    """Return adapter classes (subclasses of ``segwise.adapters.base.Adapter``).

    Each declares ``name``, the URL ``schemes`` it answers, e.g. ``("duckdb",)``, and the
    ``flavor_class`` of the SQL it speaks; that flavor is registered as a dialect too. Two
    plugins claiming the same scheme is an error naming both.
    """


@hookspec
def segwise_dialects() -> list[type[SqlFlavor]]:
    """Return SQL flavors (subclasses of ``segwise.adapters.base.SqlFlavor``), one per dialect.

    Each renders without a connection (``segwise sql --dialect NAME``) and is keyed by its
    ``name`` and ``aliases``; an adapter's ``flavor_class`` need not be listed again. Two
    different flavors claiming the same name is an error naming both.
    """


# --------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------


@hookspec
def segwise_measures() -> list[MeasureDefinition]:
    """Return custom measures usable as ``measure: NAME`` or ``measure: NAME:PROPERTY``.

    A ``MeasureDefinition`` gives the name, how it aggregates (a function building a sqlglot
    expression from the series' columns), the result type and whether it is additive.
    """


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------


@hookspec
def segwise_plan_rules() -> list[Callable[[exp.Expr, CompiledStatement], exp.Expr]]:
    """Return rewrite rules ``rule(expression, compiled) -> expression`` applied, in
    registration order, to every compiled statement before it is rendered.

    A rule receives the sqlglot expression and the ``CompiledQuery`` (query, time frame,
    dialect) and returns the (possibly new) expression; it must not change the result.
    """


@hookspec
def segwise_optimizer_rules() -> list[tuple[str, Callable[[Any, Any], Any]]]:
    """Return planner rules as ``(name, rule)``: ``rule(plan, context) -> plan`` in the form of
    the built-in rules (``segwise.rules``), run after them in registration order.

    ``plan`` is a ``segwise.plan.LogicalPlan`` (copy it with ``plan.copy()`` before changing it),
    ``context`` a ``segwise.rules.context.Context`` (the bound query, the cost model, the
    caller's options). A rule records what it decided in ``plan.decisions`` and must keep the
    answer unchanged; ``disabled_rules`` skips it by name. Names must not repeat a built-in's.
    """


@hookspec(firstresult=True)
def segwise_estimate_cost(compiled: CompiledStatement, estimate: CostEstimate) -> CostEstimate | None:
    """Refine or replace the cost estimate of a compiled query (``segwise explain``).

    ``estimate`` is segwise's own (rows and bytes read per series and table, from the adapter's
    statistics). Return a new ``segwise.cost.CostEstimate`` (defined in ``segwise.hooktypes``), or ``None`` to keep it.
    Stops at first non-None result.
    """


# --------------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------------


@hookspec
def segwise_query_executed(event: QueryEvent) -> None:
    """Called after every statement segwise sends to a warehouse, including failed ones.

    ``event`` carries the adapter name, the SQL, the duration in seconds, the number of rows
    returned and the error (``None`` on success). Return values are ignored.
    """


__all__ = ["hookimpl", "hookspec"]
