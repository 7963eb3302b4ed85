"""Rule 3: reduce events per user before joining the user table, ranking top-N groups or
looking up a category, when that is cheaper.

A series that breaks down or filters by a user property joins the user table; a top-N series
reads its rows twice (to rank the groups, then to aggregate); a category breakdown looks each
row's unit up in the cohort reduction (one semi-join per group, a probe like the user join;
measured on 10M events: 4-tier weekly active users 2-3x faster reduced first on PostgreSQL,
whose ``count(DISTINCT)`` sorts, and 2x on DuckDB). Joined naively,
every matching event is looked up; reduced first to one row per (bucket, event dimensions, user)
with partial aggregates (count, sum, count of values, min, max: the shape of a rollup), the join
and the final aggregate see one row per user and bucket. Exact for ``events``, ``unique_users``,
``events_per_user``, ``sum``/``avg``/``min``/``max``, per-user measures, ``frequency`` and
rolling active users (distinct (user, day) pairs come from the reduced rows).

Cost: joined first, the probe and the final aggregate see all M matching rows; reduced first,
the reduction reads M once and the probe and final aggregate see P rows. Estimated P = min(M,
users x buckets) (users from the user table's row count). The final aggregate weighs 3 for a
distinct count (unique users, rolling, per-user measures, frequency) and 1 otherwise; after the
reduction a count of users is a plain count when each user is on one row per group. Top-N reads
the rows twice. So sums and counts by a user property stay joined first unless the reduction
halves the rows (measured: reducing first made a weekly event count by user property 0.73x as
fast on 10M events in DuckDB, and unique users by country 2.5-6.6x faster).
Skipped for percentiles, plugin measures, first/last occurrence, multi-table series,
user-property conditions inside a combined event, distinct values (``unique:P``) and a query unit
read from an event column (``unit: session``: the reduction keeps user ids, not the event's unit
id; a unit on the user table is read after the join, its users counted distinct).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.plan import Alternative, PreAggregate
from segwise.plan_rollup import rollup_read
from segwise.plan_series import reduced_shape
from segwise.rules.reduction import eligible, estimate

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan
    from segwise.rules.context import Context


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:
    plan = plan.copy()  # a rule never changes the plan it is given
    for node in plan.nodes:
        if not eligible(node, context):
            continue
        matched, reduced, joined, reduced_cost = estimate(node, context)
        take = context.preaggregate == "always" or (context.preaggregate == "auto" and reduced_cost < joined)
        plan.alternatives.append(
            Alternative(f"{node.label}: join users to each event", round(matched), 0, joined, not take)
        )
        plan.alternatives.append(
            Alternative(f"{node.label}: reduce per user, then join", round(reduced), 0, reduced_cost, take)
        )
        if take:
            assert plan.group_by is not None, "the planner builds the group-by keys"
            shape = reduced_shape(
                node.scan.tables[0], [node.series], [node.measure.prop], context.bound.catalog, plan.group_by
            )
            read = rollup_read(shape, node.measure.prop)  # the columns its measure reads
            node.operators.insert(0, PreAggregate("before_join", shape=shape, read=read))
            plan.decisions.append(
                f"{node.label}: events reduced per (bucket, user) before the user join "
                f"(~{round(matched):,} -> ~{round(reduced):,} rows)"
            )
    return plan
