"""The cost of reducing events per (bucket, user) before a join or a top-N ranking, against
joining every event: facts two rules weigh (``preaggregate`` decides, ``rollups`` compares a
rollup with the best raw plan). Not a rule itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.catalog import USER_PROPERTY
from segwise.plan import Join, TopN

if TYPE_CHECKING:
    from segwise.plan import SeriesNode
    from segwise.rules.context import Context


def eligible(node: SeriesNode, context: Context) -> bool:
    catalog = context.bound.catalog
    if node.scan.rollup is not None or len(node.scan.tables) != 1 or node.series.occurrence:
        return False
    if not node.measure.definition.reducible:
        return False
    unit = context.bound.unit
    if not unit.is_user and not unit.on_user_table:  # reduced per user id: the event's unit id is lost
        return False
    # a category breakdown looks each row's unit up in the cohort reduction, a probe like the
    # user join: reduced first, once per (bucket, user) instead of once per event
    categories = any(context.bound.is_category(name) for name in context.bound.query.breakdown)
    if not (node.has(Join) or node.has(TopN) or categories):
        return False
    inside = [c.property for m in node.series.members for c in m.where]
    return not any(catalog.resolve(name, "plan").source == USER_PROPERTY for name in inside)


def joined_cost(node: SeriesNode, context: Context, rows: float) -> float:
    """Joining ``rows`` to the user table as they are: the probe and the final aggregate per row
    (a distinct count weighs three plain aggregates; top-N reads the rows twice)."""
    weight = 3 if node.measure.definition.distinct else 1
    reads = 2 if node.has(TopN) else 1  # top-N ranks, then aggregates
    return context.costs.agg_row * rows * (1 + weight) * reads


def estimate(node: SeriesNode, context: Context) -> tuple[float, float, float, float]:
    """(matching rows M, reduced rows P, cost joined first, cost reduced first) of a series."""
    costs = context.costs
    users = context.bound.catalog.user_rows()
    buckets = 1 if node.tf.grain == "total" else len(node.tf.buckets)
    if node.measure.is_rolling:
        days = max(1, round((node.tf.end_utc - node.tf.start_utc).total_seconds() / 86400))
        buckets = days + (node.measure.window_days or 1)
    matched = node.scan.rows * node.scan.selectivity
    reduced = min(matched, float(users * buckets))
    # A distinct count costs about three plain aggregates. Reduced per (bucket, user) and joined
    # to one row per user, a count of users needs no DISTINCT any more (when each user is on
    # one row per group: bound.users_unique_after_reduction).
    weight = 3 if node.measure.definition.distinct else 1
    after = 1 if node.measure.definition.counts_users else weight
    if node.measure.is_rolling or not context.bound.users_unique_after_reduction():
        after = weight
    reads = 2 if node.has(TopN) else 1  # top-N ranks, then aggregates
    joined = joined_cost(node, context, matched)
    reduced_cost = costs.agg_row * (matched + reduced * (1 + after) * reads)  # reduce, then per reduced row
    return matched, reduced, joined, reduced_cost
