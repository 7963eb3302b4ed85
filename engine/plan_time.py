"""The time key of a plan: how rows are bucketed (:class:`Bucketing`) — the grain, the project's
time zone the event time is read in, the day weeks start on, and the bucket expression itself,
built once by the planner in the target flavor over a placeholder for the naive local time.

``plan_series.group_by`` puts it beside the breakdown's keys (``GroupBy.time``); lowering reads
it (``Lowering.bucketing``: the local time, the bucket of a row, whether there is one at all)
instead of the query's time frame; explain prints it. The dialect's rendering of a truncation
stays in the flavor (``SqlFlavor.truncate``, ``add_days``, ``to_local``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .project import WEEKDAYS

if TYPE_CHECKING:
    from .adapters.base import SqlFlavor

LOCAL = "__segwise_local"  # the placeholder column the bucket expression reads (a naive local time)


@dataclass(frozen=True)
class Bucketing:
    """The time bucket every series (and an analysis) groups by: ``grain`` (``total``: none), the
    event time read as naive local time in ``timezone``, weeks starting ``week_start`` days after
    Monday, and ``expression``, the bucket of the placeholder column ``LOCAL`` in the target
    flavor (None for a total)."""

    grain: str
    timezone: str
    week_start: int
    expression: exp.Expr | None

    @property
    def total(self) -> bool:
        """No time bucket: one value per series and groups."""
        return self.expression is None

    def of(self, local: exp.Expr) -> exp.Expr:
        """The bucket of ``local`` (a naive local timestamp): the plan's expression, placed on it."""
        assert self.expression is not None, "a total has no bucket"

        def place(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and not node.table and node.name == LOCAL:
                return local.copy()
            return node

        return self.expression.copy().transform(place, copy=False)

    def local(self, flavor: SqlFlavor, ts: exp.Expr, has_tz: bool) -> exp.Expr:
        """An event timestamp (naive = UTC, or with time zone) as naive local time in the zone."""
        return flavor.to_local(ts, self.timezone, has_tz)

    def __str__(self) -> str:
        if self.total:
            return f"none (total); local time in {self.timezone}"
        week = f", weeks start on {WEEKDAYS[self.week_start]}" if self.grain == "week" else ""
        return f"{self.grain} of the local time in {self.timezone}{week}"

    @property
    def sql(self) -> str | None:
        """The bucket expression as (dialect-neutral) SQL, for explain."""
        return self.expression.sql() if self.expression is not None else None

    def to_json(self) -> dict[str, Any]:
        return {"grain": self.grain, "timezone": self.timezone, "week_start": self.week_start, "sql": self.sql}


def bucketing(flavor: SqlFlavor, grain: str, timezone: str, week_start: int) -> Bucketing:
    """The time key of ``grain`` in ``timezone`` (weeks from ``week_start`` days after Monday),
    its bucket expression rendered by ``flavor``."""
    if grain == "total":
        return Bucketing(grain, timezone, week_start, None)
    local = exp.column(LOCAL)
    offset = week_start if grain == "week" else 0
    if offset:
        shifted = flavor.add_days(local, -offset)
        expression = flavor.add_days(flavor.truncate("week", shifted), offset)
    else:
        expression = flavor.truncate(grain, local)
    return Bucketing(grain, timezone, week_start, expression)
