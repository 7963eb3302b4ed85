"""What row sources read while lowering: the project, its catalog, the target flavor and the
query's time frame, and how a local timestamp becomes a bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

    def bucket(self, local: exp.Expr) -> exp.Expr:
        """``local`` (a naive local timestamp) truncated to the query's grain (weeks start on the
        project's week start)."""
        grain = self.tf.grain
        offset = self.project.week_start_index if grain == "week" else 0
        if offset:
            shifted = self.flavor.add_days(local, -offset)
            return self.flavor.add_days(self.flavor.truncate("week", shifted), offset)
        return self.flavor.truncate(grain, local)
