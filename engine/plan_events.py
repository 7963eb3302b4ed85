"""The typed parts of an analysis' plan that say which events a part of it matches and what it
decides per unit, with the sqlglot expressions lowering places:

- :class:`Match`: the events of a stickiness, lifecycle, funnel step or exclusion, retention
  start or return, or a behavioural condition: each member event with its own filters, the
  filters on all of them, the event names per table (``plan_parts.EventNames``) and every filter
  as a :class:`~segwise.plan_parts.Predicate` (one sqlglot expression over its bare column,
  placed by lowering on the column as its statement names it);
- :class:`Threshold`: a behavioural condition's ``having`` (a unit's aggregate compared), and
  :class:`CohortCondition`: one condition of the per-unit reduction (its flag, its match, its own
  window as a ``TimeRange``, its threshold).

The planner builds them (:func:`match`, ``plan_parts.condition_predicate``); explain prints them
(``describe``/``to_json``); lowering reads them instead of the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .plan_parts import Operator, Predicate, condition_predicate, event_names
from .plan_users import Join

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .catalog import Catalog, EventTableInfo, ResolvedProperty
    from .plan_parts import EventNames, TimeRange
    from .query import Condition, EventFilter


@dataclass(frozen=True)
class Match:
    """The events one part of an analysis matches: ``members`` (each event with its own filters,
    the structure lowering follows), ``where`` (filters on all of them), their names per table
    (``events``) and each filter as a typed predicate (``conditions``, members' first)."""

    members: tuple[EventFilter, ...]
    where: tuple[Condition, ...]
    events: EventNames
    conditions: tuple[Predicate, ...]

    @property
    def text(self) -> str:
        own = [
            f"{m.event} where " + " and ".join(f"{c.property} {c.op}" for c in m.where) for m in self.members if m.where
        ]
        text = str(self.events) + (f" ({'; '.join(own)})" if own else "")
        if self.where:
            text += " where " + " and ".join(f"{c.property} {c.op}" for c in self.where)
        return text

    @property
    def planned(self) -> dict[int, Predicate]:
        """The predicates by the condition's identity (what ``RowSource.condition`` places)."""
        return {id(p.condition): p for p in self.conditions if p.condition is not None}

    def describe(self, name: str, indent: str = "    ") -> list[str]:
        """Explain's lines: the events (and their SQL), each filter's text and expression."""
        lines = [f"{indent}{name:<12} {self.text}"]
        if self.events.sql:
            lines.append(f"{indent}{'':<12} {self.events.sql}")
        lines += [f"{indent}{'':<12} {p.sql}" for p in self.conditions if p.sql]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "events": {"text": self.events.text, "sql": self.events.sql},
            "conditions": [{"text": p.text, "sql": p.sql} for p in self.conditions],
        }


def match(
    flavor: SqlFlavor, catalog: Catalog, members: list[EventFilter], where: list[Condition] | tuple[Condition, ...] = ()
) -> Match:
    """The typed match of ``members`` with ``where`` (bind checked every name)."""
    table_ids: list[int] = []
    for member in members:
        table_ids += [t for t in catalog.tables_with_event(member.event) if t not in table_ids]
    tables: list[EventTableInfo] = [catalog.event_tables[t] for t in table_ids]
    conditions = [c for m in members for c in m.where] + list(where)
    predicates = tuple(condition_predicate(flavor, catalog, c)[0] for c in conditions)
    return Match(tuple(members), tuple(where), event_names(tables, [m.event for m in members]), predicates)


@dataclass(frozen=True)
class Threshold:
    """A behavioural condition's ``having``: the unit's ``aggregate`` (``events``,
    ``active_days``, or ``sum``/``avg``/``min``/``max`` of the numeric event property ``prop``)
    over the condition's matching events, compared by ``op`` with ``value`` (``values``: the
    inclusive bounds of ``between``; ``column``: the property resolved)."""

    aggregate: str
    prop: str | None
    op: str
    value: float | None = None
    values: tuple[float, ...] | None = None
    column: ResolvedProperty | None = None  # ``prop`` resolved by the planner (lowering reads it)

    def test(self, aggregate: exp.Expr) -> exp.Expr:
        """The comparison of ``aggregate`` (values are literals)."""
        if self.op == "between":
            assert self.values is not None
            low, high = (exp.Literal.number(v) for v in self.values)
            return exp.Between(this=aggregate, low=low, high=high)
        assert self.value is not None
        kinds = {"eq": exp.EQ, "neq": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
        return kinds[self.op](this=aggregate, expression=exp.Literal.number(self.value))

    def __str__(self) -> str:
        measure = self.aggregate + (f"({self.prop})" if self.prop else "")
        if self.op == "between" and self.values is not None:
            return f"{measure} between {self.values[0]:g} and {self.values[1]:g}"
        symbol = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[self.op]
        return f"{measure} {symbol} {self.value:g}"


@dataclass(frozen=True)
class CohortCondition:
    """One behavioural condition of the per-unit reduction: the flag ``_f<flag>`` it sets (1 when
    the unit has a matching event in ``window`` and the ``threshold`` holds), its events and
    filters (``match``), its own window (``None``: the unit's whole history) and where the query
    or project wrote it (``location``, for errors)."""

    flag: int
    text: str
    location: str
    match: Match
    window: TimeRange | None
    threshold: Threshold | None

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(ref for ref, _parts in self.match.events.tables)

    def describe(self) -> list[str]:
        lines = [f"    _f{self.flag:<10} {self.text}"]
        lines += self.match.describe("events", "      ")
        if self.window is not None:
            lines.append(f"      {'window':<12} {self.window}")
            lines += [f"      {'':<12} {self.window.sql}"] if self.window.sql else []
        if self.threshold is not None:
            lines.append(f"      {'flag':<12} at least one event and {self.threshold}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "flag": f"_f{self.flag}",
            "text": self.text,
            "match": self.match.to_json(),
            "window": None if self.window is None else {"text": self.window.text, "sql": self.window.sql},
            "threshold": None if self.threshold is None else str(self.threshold),
        }


@dataclass(frozen=True)
class CohortScan:
    """One read of an event table for the per-unit reduction: the conditions it serves, each
    pruned to its own window, and the estimated rows of their hull. Lowering reads each
    condition's rows from the scans serving its flag (``info``), not from the catalog."""

    info: EventTableInfo  # the event table read
    conditions: tuple[CohortCondition, ...]
    rows: int
    table_rows: int
    partitioned: bool

    @property
    def table(self) -> str:
        return str(self.info.ref)

    def __str__(self) -> str:
        pruning = "; partitions pruned to each condition's window" if self.partitioned else ""
        flags = "; ".join(f"_f{c.flag}: {c.text}" for c in self.conditions)
        return f"{self.table}  ~{self.rows:,} of {self.table_rows:,} rows  [{flags}]{pruning}"


@dataclass(frozen=True)
class CohortReduction(Operator):
    """Behavioural segments, cohorts and categories: once per query, every condition's events
    read in one scan per table, reduced per unit to one flag per condition (``did`` holds), then
    the segment as a semi-join (an anti-join when units without such events belong) and each
    category as the first of its groups that holds."""

    scans: tuple[CohortScan, ...]
    uses: tuple[str, ...]
    users: Join | None = None  # the user tables its scans join (the unit's id or a condition's user property)

    @property
    def conditions(self) -> tuple[CohortCondition, ...]:
        """Every condition once, by its flag."""
        found = {c.flag: c for scan in self.scans for c in scan.conditions}
        return tuple(found[k] for k in sorted(found))

    @property
    def detail(self) -> str:
        return f"per unit, one flag per condition ({len(self.conditions)}); " + "; ".join(self.uses)

    def describe(self) -> list[str]:
        lines = [f"Cohort         {self.detail}"]
        lines += [f"  Scan         {scan}" for scan in self.scans]
        lines += [f"  Join         {self.users.detail}"] if self.users is not None else []
        lines.append("  Flags        per unit, 1 when it has a matching event in the window (and the threshold holds)")
        return lines + [line for c in self.conditions for line in c.describe()]

    def to_json(self) -> dict[str, Any]:
        return {
            "detail": self.detail,
            "scans": [str(scan) for scan in self.scans],
            "conditions": [c.to_json() for c in self.conditions],
        }
