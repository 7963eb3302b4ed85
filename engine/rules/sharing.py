"""Rule 4: scan sharing. Several series over the same table read it once, with conditional
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

**Top-N.** Series of a top-N query over different events of the same table (revenue and visitors
by country, top 10) read it once as well: the events of all of them are reduced in one scan per
(bucket, event breakdowns, user), with each series' partial aggregates under its events' condition
(``rollups.SharedReducedSource``), and the user table is joined once; each series then computes
its measure per (bucket, group) from the rows where its count is positive (the compiler's top-N
partials). Eligible: raw single-table
scans of a table with an event-name column, events without per-event filters (nor ``any``),
the same series filters and range, measures that combine across groups (counts, sums, minima,
maxima; unique users over user-property breakdowns), at most one measured property, no segment,
first/last occurrence or previous period. Series whose events overlap stay apart. Cost: one scan
of the range and one reduction of all matching rows, against a scan and a reduction per series.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.cost import series_rows
from segwise.plan import Alternative, Join, PreAggregate, SharedReducedScan, SharedScan, same_filters
from segwise.plan_parts import event_names, partition_range, time_range
from segwise.plan_rollup import rollup_read
from segwise.plan_series import reduced_shape
from segwise.query import ANY_EVENT

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.rules.context import Context


def weight(node: SeriesNode) -> int:
    """Relative cost per row of a series' aggregate: a distinct count about three plain ones."""
    return 3 if node.measure.definition.counts_users else 1


def eligible(node: SeriesNode, context: Context) -> bool:
    query = context.bound.query
    scan = node.scan
    return (
        scan.rollup is None
        and not node.preaggregate
        and len(scan.tables) == 1
        and not node.series.occurrence
        and node.measure.definition.shareable
        and not scan.outer_filters
        and not (query.breakdown and query.breakdown_limit is not None)
    )


def topn_eligible(node: SeriesNode, position: int, context: Context) -> bool:
    bound = context.bound
    scan = node.scan
    if len(scan.tables) != 1 or scan.tables[0].spec.event_name is None or scan.rollup is not None:
        return False
    if node.series.occurrence or node.previous or scan.outer_filters or bound.query.segment is not None:
        return False
    if not bound.unit.is_user:  # the reduction is per user id, and user ids are not the units counted
        return False
    if not node.measure.combines_across_groups(bound.users_unique_after_reduction()):
        return False
    if not node.measure.definition.combines_only_unique_users and not node.has(Join):
        return False  # nothing to reduce per user for: plain scans of their own are as good
    if position == 0 and node.measure.definition.combines_only_unique_users and node.tf.grain != "total":
        return False  # ranked over distinct users of every bucket: from its own rows, not partials
    return all(not m.where and m.event != ANY_EVENT for m in node.series.members)


def apply_topn(plan: LogicalPlan, context: Context) -> None:
    """Top-N series over different events of one table: one reduced scan (see the module doc)."""
    groups: list[list[int]] = []
    for position, node in enumerate(plan.nodes):
        if not topn_eligible(node, position, context):
            continue
        events = {m.event for m in node.series.members}
        for group in groups:
            first = plan.nodes[group[0]]
            taken = {m.event for p in group for m in plan.nodes[p].series.members}
            props = {plan.nodes[p].measure.prop for p in group} | {node.measure.prop}
            if (
                first.scan.tables[0] is node.scan.tables[0]
                and first.series.where == node.series.where
                and first.tf == node.tf
                and not events & taken
                and len(props - {None}) <= 1
            ):
                group.append(position)
                break
        else:
            groups.append([position])
    costs = context.costs
    for positions in groups:
        if len(positions) < 2:
            continue
        nodes = [plan.nodes[p] for p in positions]
        separate_rows = sum(n.scan.rows for n in nodes)
        separate = sum(costs.work(n.scan.rows, n.scan.rows * n.scan.selectivity, 1) for n in nodes)
        rows = max(n.scan.rows for n in nodes)
        matched = min(float(rows), sum(n.scan.rows * n.scan.selectivity for n in nodes))
        shared = costs.work(rows, matched, 1)
        labels = ", ".join(n.label for n in nodes)
        take = context.share_scans == "always" or shared < separate
        width = max(n.scan.bytes // max(n.scan.rows, 1) for n in nodes)
        table = str(nodes[0].scan.tables[0].ref)
        plan.alternatives.append(
            Alternative(f"{labels}: one scan per series", separate_rows, separate_rows * width, separate, not take)
        )
        plan.alternatives.append(
            Alternative(f"{labels}: one reduced scan of {table}", rows, rows * width, shared, take, "per-series CASE")
        )
        if not take:
            plan.decisions.append(f"{labels}: one scan per series (estimated cheaper than one reduced scan)")
            continue
        reads = tuple(
            (p, tuple(m.event for m in n.series.members), n.measure.prop) for p, n in zip(positions, nodes, strict=True)
        )
        read = event_names(nodes[0].scan.tables, [e for _p, names, _prop in reads for e in names])
        plan.shared_rows.append(SharedReducedScan(tuple(positions), table, reads, read))
        assert plan.group_by is not None, "the planner builds the group-by keys"
        series, measured = [n.series for n in nodes], [n.measure.prop for n in nodes]
        shape = reduced_shape(nodes[0].scan.tables[0], series, measured, context.bound.catalog, plan.group_by)
        for node in nodes:
            node.shared_rows = len(plan.shared_rows) - 1
            measure_read = rollup_read(shape, node.measure.prop)  # the columns its measure reads
            if node.preaggregate:  # reduced before the join already: to the shape of the whole group
                node.operators = [
                    PreAggregate(op.mode, op.keys, shape, measure_read)
                    if isinstance(op, PreAggregate) and op.reduces_events
                    else op
                    for op in node.operators
                ]
            else:  # the shared rows are reduced per user: that is the plan now
                node.operators.insert(0, PreAggregate("shared", shape=shape, read=measure_read))
                for alternative in plan.alternatives:
                    if alternative.name == f"{node.label}: join users to each event":
                        alternative.chosen, alternative.note = False, "superseded by the shared reduced scan"
                    elif alternative.name == f"{node.label}: reduce per user, then join":
                        alternative.chosen, alternative.note = True, "in the shared reduced scan"
        plan.decisions.append(
            f"{labels}: one scan of {table} reduced per (bucket, user) serves every series "
            f"(estimated {shared / separate:.0%} of one scan per series)"
        )


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:
    plan = plan.copy()  # a rule never changes the plan it is given
    if context.share_scans == "never":
        return plan
    query = context.bound.query
    if query.breakdown and query.breakdown_limit is not None:
        apply_topn(plan, context)
        return plan
    groups: dict[str, list[int]] = {}
    for position, node in enumerate(plan.nodes):
        if eligible(node, context):
            groups.setdefault(str(node.scan.tables[0].ref), []).append(position)
    costs = context.costs
    catalog = context.bound.catalog
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
            info = nodes[0].scan.tables[0]
            hull = time_range(context.bound.flavor, [info], start, end, "the series' ranges together")
            members = nodes[0].series.members if identical else [m for n in nodes for m in n.series.members]
            names = event_names([info], [m.event for m in members])
            parts = partition_range(context.bound.flavor, [info], start, end) if nodes[0].prune else None
            plan.shared.append(SharedScan(tuple(positions), table, identical, hull, names, parts))
            plan.union = plan.union.without(tuple(positions)) if plan.union is not None else None
            for node in nodes:
                node.shared = len(plan.shared) - 1
            plan.decisions.append(
                f"{labels}: one shared scan of {table} ({how}; estimated {shared / separate:.0%} of separate scans)"
            )
        else:
            plan.decisions.append(
                f"{labels}: one scan per series (a shared scan is estimated at {shared / separate:.0%} of their cost)"
            )
    return plan
