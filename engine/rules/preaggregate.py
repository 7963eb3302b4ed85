"""Rule 3: reduce events per user before joining the user table or ranking top-N groups, when
that is cheaper.

A series that breaks down or filters by a user property joins the user table; a top-N series
reads its rows twice (to rank the groups, then to aggregate). Joined naively,
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
Skipped for percentiles, plugin measures, first/last occurrence, multi-table series and
user-property conditions inside a combined event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.catalog import USER_PROPERTY
from segwise.plan import Alternative, Operator

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.planner import Context

REDUCIBLE = (
    "events",
    "unique_users",
    "events_per_user",
    "sum",
    "avg",
    "min",
    "max",
    "active_users",
    "user_events",
    "user_sum",
    "frequency",
)


DISTINCT = ("unique_users", "events_per_user", "active_users", "user_events", "user_sum", "frequency")


def eligible(node: SeriesNode, context: Context) -> bool:
    catalog = context.compiler.catalog
    if node.scan.rollup is not None or len(node.scan.tables) != 1 or node.series.occurrence:
        return False
    if node.measure.custom is not None or node.measure.kind not in REDUCIBLE:
        return False
    if not any(op.kind in ("Join", "TopN") for op in node.operators):
        return False
    inside = [c.property for m in node.series.members for c in m.where]
    return not any(catalog.resolve(name, "plan").source == USER_PROPERTY for name in inside)


def joined_cost(node: SeriesNode, context: Context, rows: float) -> float:
    """Joining ``rows`` to the user table as they are: the probe and the final aggregate per row
    (a distinct count weighs three plain aggregates; top-N reads the rows twice)."""
    weight = 3 if node.measure.kind in DISTINCT else 1
    reads = 2 if any(op.kind == "TopN" for op in node.operators) else 1  # top-N ranks, then aggregates
    return context.costs.agg_row * rows * (1 + weight) * reads


def estimate(node: SeriesNode, context: Context) -> tuple[float, float, float, float]:
    """(matching rows M, reduced rows P, cost joined first, cost reduced first) of a series."""
    costs = context.costs
    users = context.compiler.catalog.user_rows()
    buckets = 1 if node.tf.grain == "total" else len(node.tf.buckets)
    if node.measure.is_rolling:
        days = max(1, round((node.tf.end_utc - node.tf.start_utc).total_seconds() / 86400))
        buckets = days + (node.measure.window_days or 1)
    matched = node.scan.rows * node.scan.selectivity
    reduced = min(matched, float(users * buckets))
    # A distinct count costs about three plain aggregates. Reduced per (bucket, user) and joined
    # to one row per user, a count of users needs no DISTINCT any more (when each user is on
    # one row per group: compiler.users_unique_after_reduction).
    weight = 3 if node.measure.kind in DISTINCT else 1
    after = 1 if node.measure.kind in ("unique_users", "events_per_user") else weight
    if node.measure.is_rolling or not context.compiler.users_unique_after_reduction():
        after = weight
    reads = 2 if any(op.kind == "TopN" for op in node.operators) else 1  # top-N ranks, then aggregates
    joined = joined_cost(node, context, matched)
    reduced_cost = costs.agg_row * (matched + reduced * (1 + after) * reads)  # reduce, then per reduced row
    return matched, reduced, joined, reduced_cost


def apply(plan: LogicalPlan, context: Context) -> None:
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
            node.preaggregate = True
            node.operators.insert(0, Operator("PreAggregate", "per (bucket, event dimensions, user), before the join"))
            plan.decisions.append(
                f"{node.label}: events reduced per (bucket, user) before the user join "
                f"(~{round(matched):,} -> ~{round(reduced):,} rows)"
            )
