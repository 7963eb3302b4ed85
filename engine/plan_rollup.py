"""What a scan answered from rollup-shaped rows reads for its measure (:class:`RollupRead`): per
measure input (``events``, and the ``sum``/``count``/``min``/``max`` of the measured property)
the column holding its partials and how partials combine across rows.

Rule ``rollups`` sets it on the scan it answers from a rollup (``Scan.rollup_read``), rules
``preaggregate`` and ``sharing`` on the ``PreAggregate`` that reduces rows to a shape
(``PreAggregate.read``); lowering reads the measure's columns there instead of looking them up by
the property's name (``segwise.lower.rollup_rows.RollupSource.columns``); explain prints both
(the scan's and the operator's ``measure`` line). The dimensions' columns
are the rollup's resolved ``RollupInfo.dimensions`` (``Scan.rollup``).

Rule ``rollups`` also splits the scan's range (:class:`RollupSplit`, ``Scan.rollup_split``): the
rollup's whole buckets it reads from the rollup table and the raw edges before and after them it
reads from raw events, pre-aggregated to the rollup's shape; lowering reads both
(``RollupSource._scan``) instead of computing them from the project's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .rollups import interior, measure_column
from .timeframe import to_local, to_utc

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from .rollups import RollupInfo

INPUTS = ("sum", "count", "min", "max")  # a measured property's partials a rollup may hold
COMBINE = {"events": "sum", "sum": "sum", "count": "sum", "min": "min", "max": "max"}


@dataclass(frozen=True)
class RollupColumn:
    """One measure input: the column of the rows holding its partials, and how they combine."""

    input: str  # events | sum | count | min | max
    column: str
    combine: str  # sum | min | max

    def __str__(self) -> str:
        return f"{self.input} -> {self.column} ({self.combine})"


@dataclass(frozen=True)
class RollupRead:
    """The columns a measure reads from rollup-shaped rows: ``events`` always, and the partials of
    the measured property ``prop`` that the rows hold."""

    prop: str | None
    columns: tuple[RollupColumn, ...]

    def column(self, input_: str) -> str | None:
        """The column of measure input ``input_`` (None: the rows do not hold it)."""
        return next((c.column for c in self.columns if c.input == input_), None)

    def __str__(self) -> str:
        return "; ".join(map(str, self.columns))

    def describe(self, name: str, indent: str = "    ") -> list[str]:
        """Explain's line (a part of the scan, or of a ``PreAggregate``)."""
        return [f"{indent}{name:<12} {self}"]

    def to_json(self) -> dict[str, Any]:
        return {
            "prop": self.prop,
            "columns": [{"input": c.input, "column": c.column, "combine": c.combine} for c in self.columns],
            "text": str(self),
        }


def rollup_read(info: RollupInfo, prop: str | None) -> RollupRead:
    """What a measure of property ``prop`` (None: none) reads from ``info``'s rows."""
    columns = [RollupColumn("events", measure_column("events"), COMBINE["events"])]
    for kind in INPUTS if prop is not None else ():
        if info.has(f"{kind}:{prop}"):
            columns.append(RollupColumn(kind, measure_column(f"{kind}:{prop}"), COMBINE[kind]))
    return RollupRead(prop, tuple(columns))


@dataclass(frozen=True)
class RollupSplit:
    """Where a rollup scan reads the rollup table and where raw events: the rollup's whole
    buckets (``interior``: naive local ``[start, end)``, on the rollup's grain, within what its
    build covers) and the raw edges before and after them (``edges``: UTC ``[start, end)``, each
    non-empty, in order)."""

    interior: tuple[datetime, datetime]
    edges: tuple[tuple[datetime, datetime], ...]

    def __str__(self) -> str:
        low, high = self.interior
        text = f"rollup buckets [{low:%Y-%m-%d %H:%M}, {high:%Y-%m-%d %H:%M}) local"
        edges = ", ".join(f"[{a:%Y-%m-%d %H:%M:%S}, {b:%Y-%m-%d %H:%M:%S})" for a, b in self.edges)
        return text + (f"; raw edges {edges} UTC" if edges else "; no raw edges")

    def describe(self, name: str, indent: str = "    ") -> list[str]:
        return [f"{indent}{name:<12} {self}"]

    def to_json(self) -> dict[str, Any]:
        return {
            "interior": [t.isoformat() for t in self.interior],
            "edges": [[a.isoformat(), b.isoformat()] for a, b in self.edges],
            "text": str(self),
        }


def rollup_split(info: RollupInfo, start_utc: datetime, end_utc: datetime, tz: ZoneInfo) -> RollupSplit | None:
    """How a scan of UTC ``[start_utc, end_utc)`` reads ``info``: its whole buckets of that range
    in the project's zone ``tz`` and the raw edges around them (None: no whole bucket)."""
    whole = interior(info, to_local(start_utc, tz), to_local(end_utc, tz))
    if whole is None:
        return None
    around = ((start_utc, to_utc(whole[0], tz)), (to_utc(whole[1], tz), end_utc))
    return RollupSplit(whole, tuple((lo, hi) for lo, hi in around if lo < hi))
