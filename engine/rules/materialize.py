"""Rule 6: under top-N, series that read the same rows share one materialized CTE.

A top-N series materializes its matching rows (user, bucket, groups, value) once, then ranks the
groups and aggregates from them. When the rows are rollup-shaped (answered from a rollup, or
reduced per user first) and other series read the same rows (same events, filters and range:
``plan.same_filters``), one CTE can hold them for all, with the rollup inputs every one of their
measures reads; lowering then finds the same tree and reads it once. The rule records each such
group as a :class:`~segwise.plan_series.SameRows` (the series and the inputs), which lowering reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.plan import TopN, same_filters
from segwise.plan_series import SameRows

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan
    from segwise.rules.context import Context


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:
    plan = plan.copy()  # a rule never changes the plan it is given
    if not any(node.has(TopN) for node in plan.nodes):
        return plan
    taken: set[int] = set()
    for position, node in enumerate(plan.nodes):
        shaped = node.scan.rollup is not None or node.preaggregate
        if position in taken or not shaped or node.shared_rows is not None:
            continue
        twins = tuple(p for p, n in enumerate(plan.nodes) if same_filters([node, n]))
        if len(twins) < 2:
            continue
        inputs = dict.fromkeys(k for p in twins for k in sorted(plan.nodes[p].measure.definition.rollup_inputs))
        plan.same_rows.append(SameRows(twins, tuple(inputs)))
        taken.update(twins)
        labels = ", ".join(plan.nodes[p].label for p in twins)
        plan.decisions.append(f"{labels}: the same rows, materialized once with {', '.join(inputs)}")
    return plan
