"""Rule 1: answer a series from the cheapest rollup that is exact for it, or say why none is.

A rollup is exact for a series when ``rollups.refusal`` finds nothing against it (combinable
measure, grain, dimensions, time zone, definition, coverage). Among exact rollups the cost model
picks the one with the fewest estimated rows (whole covered buckets from the rollup, the edges
of the range from raw events); the raw scan stays when it is cheaper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.cost import series_rows
from segwise.plan import Aggregate, Alternative, Join, TopN
from segwise.plan_rollup import rollup_read, rollup_split
from segwise.rollups import refusal, rollups
from segwise.rules import reduction

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.plan_rollup import RollupSplit
    from segwise.rollups import RollupInfo
    from segwise.rules.context import Context


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:
    plan = plan.copy()  # a rule never changes the plan it is given
    bound = context.bound
    if not bound.project.rollups:
        return plan
    if not context.use_rollups:
        plan.decisions.append("rollups: not considered (rollups=False)")
        return plan
    infos = rollups(bound.project, bound.catalog)
    for node in plan.nodes:
        raw_seconds = context.costs.seconds(node.scan.rows, node.scan.rows * node.scan.selectivity, 1)
        joins = node.has(Join) or node.has(TopN)
        if joins and reduction.eligible(node, context):
            # Raw events will be reduced per user before the join when that is cheaper; rollup rows
            # are joined as they are. Compare like with like.
            _matched, _reduced, joined, reduced_cost = reduction.estimate(node, context)
            raw_seconds += min(joined, reduced_cost)
        candidates: list[tuple[float, int, RollupInfo]] = []
        refused: list[str] = []
        for info in infos:
            categories = frozenset(b for b in bound.query.breakdown if bound.is_category(b))
            reason = refusal(bound.catalog, info, node.series, node.measure, node.tf, bound.query, categories)
            if reason is not None:
                refused.append(f"{node.label}: rollup {info.spec.name} not used: {reason}")
                continue
            rows = rollup_rows(context, info, node)
            seconds = context.costs.seconds(rows, rows * node.scan.selectivity, 1)
            if joins and reduction.eligible(node, context):
                seconds += reduction.joined_cost(node, context, rows * node.scan.selectivity)
            candidates.append((seconds, rows, info))
        candidates.sort(key=lambda c: c[0])
        if candidates and candidates[0][0] <= raw_seconds:
            seconds, rows, chosen = candidates[0]
            plan.decisions.append(f"{node.label}: answered from rollup {chosen.spec.name}")
            plan.decisions += [
                f"{node.label}: rollup {info.spec.name} not used: rollup {chosen.spec.name} is smaller"
                for _s, _r, info in candidates[1:]
            ]
            plan.alternatives.append(
                Alternative(f"{node.label}: raw events", node.scan.rows, node.scan.bytes, raw_seconds, False)
            )
            width = 48
            plan.alternatives.append(
                Alternative(f"{node.label}: rollup {chosen.spec.name}", rows, rows * width, seconds, True)
            )
            node.scan.rollup = chosen
            measured = next((op.prop for op in node.operators if isinstance(op, Aggregate)), None)
            node.scan.rollup_read = rollup_read(chosen, measured.name if measured is not None else None)
            node.scan.rollup_split = _split(context, chosen, node)
            node.scan.rows, node.scan.bytes = rows, rows * width
            node.scan.table_rows = chosen.state.rows if chosen.state and chosen.state.rows else rows
        elif candidates:
            plan.decisions.append(f"{node.label}: rollup {candidates[0][2].spec.name} not used: raw events are cheaper")
        plan.decisions += refused
    return plan


def _split(context: Context, info: RollupInfo, node: SeriesNode) -> RollupSplit:
    """The chosen rollup's whole buckets of the range the scan reads (a rolling count's look-back
    included) and the raw edges around them, which lowering reads."""
    time = node.scan.time
    tf = node.tf
    start, end = (time.start, time.end) if time is not None else (tf.start_utc, tf.end_utc)
    assert start is not None and end is not None, "a rollup scan reads a bounded range"
    split = rollup_split(info, start, end, context.bound.project.tz)
    assert split is not None, "refusal() checked the range"
    return split


def rollup_rows(context: Context, info: RollupInfo, node: SeriesNode) -> int:
    """Rows read from the rollup (its share of the covered range) plus the raw edges."""
    state = info.state
    assert state is not None
    split = rollup_split(info, node.tf.start_utc, node.tf.end_utc, context.bound.project.tz)
    assert split is not None
    whole = split.interior
    covered = (state.covered_to - state.covered_from).total_seconds() or 1.0
    share = (whole[1] - whole[0]).total_seconds() / covered
    rows = round((state.rows or 0) * share)
    catalog = context.bound.catalog
    for lo, hi in split.edges:
        rows += series_rows(catalog, info.source, lo, hi)[0]
    return rows
