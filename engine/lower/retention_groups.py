"""Retention broken down by a property of the start event (docs/queries.md, "Retention").

A unit's group in a cohort is the value of the start event that made it a member: ``first_time``
its first start event ever, ``recurring`` its first start event in the cohort's bucket (rolling
windows: the same event, t0). Start events at the same time with different values: the smallest
value (text by code point, whatever the database collation), nulls last. The value travels with
the per-unit reduction, in one scan:

- in ``ru`` the group column is ``CASE WHEN <start event> THEN value END`` and is a grouping key,
  so each (unit, bucket[, slot]) row carries the earliest start time of each value (rows of
  return events that are no start event carry NULL there, which is harmless: their start time is
  NULL);
- the cohort entry is picked by ``ROW_NUMBER() OVER (PARTITION BY unit[, bucket] ORDER BY start
  time, values)`` (``pick_entries``), the one row numbered 1 giving the value.

With a unit other than the user, a user property is read the same way, from the start event's
user (an account's users may differ in it; the account is in one group per cohort). Groups of the
unit (segment, categories) are the same on every row of a unit and stay partition keys. User
properties, when the unit is the user, are joined *after* the reduction (``late``, ``join_late``):
the users table meets one row per cohort member instead of every event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan_retention import Cohorts, MemberJoin

from .rows import table_ref

if TYPE_CHECKING:
    from .state import Lowering

LATE_ALIAS = "_lu"  # the user tables joined after the reduction: _lu0, _lu1 ...


def plan_cohorts(lw: Lowering) -> Cohorts:
    """The plan's ``Cohorts`` operator of the retention node."""
    assert lw.logical.analysis is not None, "retention is an analysis node"
    return next(op for op in lw.logical.analysis.operators if isinstance(op, Cohorts))


def _member_join(lw: Lowering) -> MemberJoin | None:
    assert lw.logical.analysis is not None, "retention is an analysis node"
    return next((op for op in lw.logical.analysis.operators if isinstance(op, MemberJoin)), None)


def start_groups(lw: Lowering) -> set[int]:
    """The positions of the plan's group-by keys read from the start event that made a unit a
    member (the plan's ``Cohorts.start_values``: its properties, and, when the unit is not the
    user, user properties of the start event's user: an account's users may differ, and the
    account is in one group per cohort)."""
    starts = plan_cohorts(lw).start_values
    return {key.position for key in lw.groups.keys if key.name in starts}


def late_groups(lw: Lowering) -> dict[int, exp.Expr]:
    """The plan's group-by keys joined after the reduction (its ``MemberJoin``: user properties,
    the unit being the user): their positions and their text on the plan's user table
    (``join_late``)."""
    joined = _member_join(lw)
    if joined is None:
        return {}
    out: dict[int, exp.Expr] = {}
    for key in lw.groups.keys:
        prop = key.prop
        if key.name in joined.names and prop is not None and prop.user_table is not None:
            column = joined.table(prop.user_table).column(prop.column, f"{LATE_ALIAS}{prop.user_table}")
            out[key.position] = lw.flavor.as_text(column, prop.kind)
    return out


def join_late(lw: Lowering, select: exp.Select, late: dict[str, exp.Expr], unit: exp.Expr) -> exp.Select:
    """``select`` with the plan's user tables that ``late`` reads joined on the unit id ``unit``."""
    aliases = sorted({c.table for e in late.values() for c in e.find_all(exp.Column)})
    if not aliases:
        return select
    joined = _member_join(lw)
    assert joined is not None, "the plan joins the user tables the late groups read"
    return joined.join(select, {int(alias[len(LATE_ALIAS) :]): alias for alias in aliases}, unit)


def at_start(group: exp.Expr, starting: exp.Expr) -> exp.Expr:
    """A start-event group read on start events only (NULL on the other rows)."""
    return exp.Case(ifs=[exp.If(this=starting.copy(), true=group)])


def entry_order(lw: Lowering, table: str, starts: list[str]) -> exp.Order:
    """Earliest start first, then the smallest start-event values by code point (the flavor's
    ``text_sort_key``: PostgreSQL would otherwise order by the collation), nulls last."""
    keys = [exp.column("_t", table=table), *[lw.flavor.text_sort_key(exp.column(k, table=table)) for k in starts]]
    return exp.Order(expressions=[exp.Ordered(this=k, nulls_first=False) for k in keys])


def pick_entries(lw: Lowering, cte: str, names: list[str], starts: list[str], per_bucket: bool) -> None:
    """A CTE ``cte``: the rows of ``ru`` with a start event, numbered ``_n`` per unit (and its
    groups of the unit; ``per_bucket``: and bucket) from the earliest start; row 1 is the entry."""
    units = [exp.column("_u", table="ru"), *[exp.column(n, table="ru") for n in names if n not in starts]]
    partition = [*units, exp.column("_b", table="ru")] if per_bucket else units
    number = exp.Window(this=exp.RowNumber(), partition_by=partition, order=entry_order(lw, "ru", starts))
    select = exp.select(
        *[exp.column(c, table="ru").as_(c) for c in ("_u", "_b", *names, "_t")], number.as_("_n")
    ).from_(table_ref("ru"))
    lw.ctes.append((cte, select.where(exp.Not(this=exp.Is(this=exp.column("_t", table="ru"), expression=exp.Null())))))
