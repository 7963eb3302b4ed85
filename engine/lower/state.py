"""The state of one statement being lowered: the project and catalog of the bound query, the
optimized plan, the target flavor, and the CTEs collected so far; and :class:`SeriesPlan`, one
series on its way to SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from segwise.plan import TopN
from segwise.plan_funnel import FunnelTopN

from .scope import Scope

if TYPE_CHECKING:
    from sqlglot import exp

    from segwise.adapters.base import SqlFlavor
    from segwise.bind import BoundQuery
    from segwise.measures import Measure, RollupColumns
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.plan_series import GroupBy
    from segwise.plan_time import Bucketing
    from segwise.timeframe import Timeframe

    from .rows import RowSource


@dataclass
class SeriesPlan:
    """A series being lowered: its rows, groups, measure input and time frame."""

    index: int
    label: str
    measure: Measure
    source: RowSource
    tf: Timeframe
    groups: list[exp.Expr] = field(default_factory=list)
    value: exp.Expr | None = None
    materialized: str | None = None
    rollup: RollupColumns | None = None  # the rows are rollup-shaped: measures read these columns
    partials: str | None = None  # top-N: the CTE of the measure per (bucket, group), when it combines
    suffix: str = ""  # shared reduced rows (rule sharing): this series' columns are _r<kind><suffix>


class Lowering(Scope):
    """Builds the statement for one optimized plan, in one flavor (see ``segwise.lower``)."""

    def __init__(self, bound: BoundQuery, plan: LogicalPlan, flavor: SqlFlavor) -> None:
        # of the bound query only the project and the catalog (and its time frame, which
        # ``Scope.bucketing`` alone reads, overridden here by the plan's): never the query itself
        super().__init__(bound.project, bound.catalog, flavor, bound.timeframe, plan.counted)  # the plan's unit
        self.logical = plan
        self.ctes: list[tuple[str, exp.Expr]] = []
        self.limit: int | None = top_n(plan)  # the plan's top-N of the breakdown groups
        self.materialized: dict[exp.Expr, str] = {}  # rows' expression -> the CTE holding them
        self.keep: set[str] = set()  # CTEs read twice: MATERIALIZED where the dialect says so

    @property
    def groups(self) -> GroupBy:
        """The plan's group-by keys and segment restriction (the planner builds them)."""
        assert self.logical.group_by is not None, "planner.build gives every plan its group-by keys"
        return self.logical.group_by

    @property
    def bucketing(self) -> Bucketing:
        """The plan's time key (``GroupBy.time``): the grain, the zone, the week start and the
        bucket expression the planner built; lowering reads it, not the query's time frame."""
        time = self.groups.time
        assert time is not None, "plan_series.group_by gives every plan its time key"
        return time

    @property
    def analysis_range(self) -> Timeframe:
        """The range of the plan's analysis (``AnalysisNode.tf``: a funnel's or retention's)."""
        assert self.logical.analysis is not None, "an analysis is the plan's analysis node"
        return self.logical.analysis.tf

    def users_unique_after_reduction(self) -> bool:
        """The plan's: after a per-user reduction each user is on one row per output group."""
        return self.logical.users_unique

    def shared_rows_group(self, node: SeriesNode) -> list[tuple[int, SeriesNode]] | None:
        """(position, node) of the series sharing ``node``'s reduced top-N scan (rule
        ``sharing``), or None."""
        if node.shared_rows is None:
            return None
        return [(p, self.logical.nodes[p]) for p in self.logical.shared_rows[node.shared_rows].positions]


def top_n(plan: LogicalPlan) -> int | None:
    """How many breakdown groups the plan keeps (its ``TopN`` or ``FunnelTopN``), the rest ``Other``."""
    operators = [op for node in plan.nodes for op in node.operators]
    operators += plan.analysis.operators if plan.analysis is not None else []
    return next((op.limit for op in operators if isinstance(op, TopN | FunnelTopN)), None)
