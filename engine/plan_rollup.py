"""What a scan answered from rollup-shaped rows reads for its measure (:class:`RollupRead`): per
measure input (``events``, and the ``sum``/``count``/``min``/``max`` of the measured property)
the column holding its partials and how partials combine across rows.

Rule ``rollups`` sets it on the scan it answers from a rollup (``Scan.rollup_read``), rules
``preaggregate`` and ``sharing`` on the ``PreAggregate`` that reduces rows to a shape
(``PreAggregate.read``); lowering reads the measure's columns there instead of looking them up by
the property's name (``segwise.lower.rollup_rows.RollupSource.columns``); explain prints both
(the scan's and the operator's ``measure`` line). The dimensions' columns
are the rollup's resolved ``RollupInfo.dimensions`` (``Scan.rollup``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .rollups import measure_column

if TYPE_CHECKING:
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
