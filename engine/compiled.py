"""What compiling a query gives: the statement (expression and rendered text) and everything
shaping the answer needs, plus the optimized plan (``segwise explain`` prints it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .bind import PREVIOUS_SUFFIX

if TYPE_CHECKING:
    from sqlglot import exp

    from .measures import Measure
    from .plan import LogicalPlan
    from .query import Query, Series
    from .timeframe import Timeframe


@dataclass(frozen=True)
class OutputSeries:
    """One series of the answer: its label, measure and time frame (previous period or not)."""

    label: str
    measure: Measure
    timeframe: Timeframe
    previous: bool = False


@dataclass(frozen=True)
class CompiledQuery:
    """Everything execution and post-processing need, plus the SQL text."""

    sql: str
    expression: exp.Expr
    query: Query
    timeframe: Timeframe
    labels: tuple[str, ...]
    measures: tuple[Measure, ...]
    breakdown: tuple[str, ...]
    dialect: str
    outputs: tuple[OutputSeries, ...] = ()
    decisions: tuple[str, ...] = ()  # the planner's choices and refusals, one sentence each
    plan: LogicalPlan | None = None  # the optimized logical plan (segwise explain prints it)
    max_rows: int | None = None  # the plan's bound on the statement's rows (None: unproven, or rewritten by a plugin)

    @property
    def value_is_integer(self) -> bool:
        return all(m.is_count for m in self.measures) and not self.query.formulas

    def series_of(self, output: OutputSeries) -> Series:
        """The query series an output comes from (a previous-period output: its current twin)."""
        label = output.label.removesuffix(PREVIOUS_SUFFIX) if output.previous else output.label
        return next(s for s in self.query.series if s.label == label)

    @property
    def group_orders(self) -> tuple[tuple[str, ...] | None, ...]:
        """Per breakdown column, a category's labels in declaration order (``else`` last), or None
        where values sort as text."""
        behaviour = self.plan.behaviour if self.plan is not None else None
        orders: list[tuple[str, ...] | None] = []
        for name in self.breakdown:
            category = behaviour.category(name) if behaviour is not None else None
            orders.append(category.labels if category is not None else None)
        return tuple(orders)

    @property
    def frequency(self) -> bool:
        return any(m.definition.family == "frequency" for m in self.measures)
