"""What row sources read while lowering: the project, its catalog, the target flavor and the
query's time frame, and how the event time is bucketed (the plan's ``Bucketing``; outside a plan,
calibration and rollup builds, the time frame's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from segwise.plan_time import Bucketing, bucketing
from segwise.units import USER, Unit

if TYPE_CHECKING:
    from sqlglot import exp

    from segwise.adapters.base import SqlFlavor
    from segwise.catalog import Catalog
    from segwise.project import ProjectSpec
    from segwise.timeframe import Timeframe


@dataclass
class Scope:
    project: ProjectSpec
    catalog: Catalog
    flavor: SqlFlavor
    tf: Timeframe
    unit: Unit = USER  # whose id ``RowSource.user()`` reads (the query's ``unit``)

    @property
    def bucketing(self) -> Bucketing:
        """How rows are bucketed: here the time frame's grain in the project's zone and week (a
        statement lowered from a plan reads the plan's, ``Lowering.bucketing``)."""
        return bucketing(self.flavor, self.tf.grain, self.project.timezone, self.project.week_start_index)

    def bucket(self, local: exp.Expr) -> exp.Expr:
        """``local`` (a naive local timestamp) truncated to the bucket (weeks start on the
        project's week start)."""
        return self.bucketing.of(local)
