"""Rule 3: scan sharing. Several series over the same table read it once, with conditional
aggregates, when the cost model says one wider scan beats one scan per series.

Eligible: raw single-table scans without first/last occurrence, user-property filters, segments
or top-N, whose measure is ``events``, ``unique_users``, ``events_per_user``, ``sum``, ``avg``,
``min`` or ``max`` (previous-period twins included: the shared scan covers both ranges). When the
series' filters are identical the aggregates need no CASE at all.

Cost (``cost.Coefficients.work``; the statement overhead is paid once either way): separate =
sum over series of rows read x scan_row + matching rows x agg_row x w; shared = rows of the
combined range x scan_row + rows matching any series x agg_row x (sum of w + 1 per series for
its row count); with identical filters, the series' own rows x (sum of w + 1). w is 3 for a
distinct count (unique users, events per user), 1 otherwise. On DuckDB, where reading a row
costs about as little as aggregating it, that keeps conditional sharing off and shares only
identical filters; on PostgreSQL, where reading a heap row costs 20-30x more, sharing wins.

The long form comes back from the shared CTE with a single reference to it (a cross join with a
small table of series numbers), since an engine may compute a CTE read twice twice (DuckDB inlines
CTEs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.cost import series_rows
from segwise.plan import Alternative

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.planner import Context

SHAREABLE = ("events", "unique_users", "events_per_user", "sum", "avg", "min", "max")


def weight(node: SeriesNode) -> int:
    """Relative cost per row of a series' aggregate: a distinct count about three plain ones."""
    return 3 if node.measure.kind in ("unique_users", "events_per_user") else 1


def eligible(node: SeriesNode, context: Context) -> bool:
    query = context.compiler.query
    scan = node.scan
    return (
        scan.rollup is None
        and not node.preaggregate
        and len(scan.tables) == 1
        and not node.series.occurrence
        and node.measure.custom is None
        and node.measure.kind in SHAREABLE
        and not scan.outer_filters
        and not (query.breakdown and query.breakdown_limit is not None)
    )


def same_filters(nodes: list[SeriesNode]) -> bool:
    first = nodes[0]
    return all(
        n.series.event == first.series.event and n.series.where == first.series.where and n.tf == first.tf
        for n in nodes[1:]
    )


def apply(plan: LogicalPlan, context: Context) -> None:
    if context.share_scans == "never":
        return
    groups: dict[str, list[int]] = {}
    for position, node in enumerate(plan.nodes):
        if eligible(node, context):
            groups.setdefault(str(node.scan.tables[0].ref), []).append(position)
    costs = context.costs
    catalog = context.compiler.catalog
    for table, positions in groups.items():
        if len(positions) < 2:
            continue
        nodes = [plan.nodes[p] for p in positions]
        separate_rows = sum(n.scan.rows for n in nodes)
        # One statement either way: its overhead is paid once, so only the scans' work is compared.
        separate = sum(costs.work(n.scan.rows, n.scan.rows * n.scan.selectivity, weight(n)) for n in nodes)
        start = min(n.tf.start_utc for n in nodes)
        end = max(n.tf.end_utc for n in nodes)
        hull_rows = series_rows(catalog, nodes[0].scan.tables[0], start, end)[0]
        identical = same_filters(nodes)
        if identical:  # plain aggregates over the same rows, one row count
            selectivity, aggregates = nodes[0].scan.selectivity, sum(weight(n) for n in nodes) + 1
        else:  # every row that passes any filter evaluates each series' CASE and its row count
            events = {tuple(m.event for m in n.series.members) for n in nodes}
            share = (
                max(n.scan.selectivity for n in nodes) if len(events) == 1 else sum(n.scan.selectivity for n in nodes)
            )
            selectivity, aggregates = min(1.0, share), sum(weight(n) + 1 for n in nodes)
        shared = costs.work(hull_rows, hull_rows * selectivity, aggregates)
        labels = ", ".join(n.label for n in nodes)
        width = max(n.scan.bytes // max(n.scan.rows, 1) for n in nodes)
        take = context.share_scans == "always" or shared < separate
        plan.alternatives.append(
            Alternative(f"{labels}: one scan per series", separate_rows, separate_rows * width, separate, not take)
        )
        how = "plain aggregates (same filters)" if identical else "conditional aggregates"
        plan.alternatives.append(
            Alternative(f"{labels}: one shared scan of {table}", hull_rows, hull_rows * width, shared, take, how)
        )
        if take:
            plan.shared.append(positions)
            for node in nodes:
                node.shared = len(plan.shared) - 1
            plan.decisions.append(
                f"{labels}: one shared scan of {table} ({how}; estimated {shared / separate:.0%} of separate scans)"
            )
        else:
            plan.decisions.append(
                f"{labels}: one scan per series (a shared scan is estimated at {shared / separate:.0%} of their cost)"
            )
