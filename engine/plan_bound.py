"""An upper bound on the rows of a query's statement (the raw answer, before shaping), where the
plan proves one: ``LogicalPlan.max_rows``. ``segwise.dispatch`` sends the statement without the
row guard's ``LIMIT`` when the bound is within ``MAX_RESULT_ROWS`` (the limit could cut nothing
and only changes the warehouse's plan); ``None`` (nothing proven) keeps the limit.

Conservative by construction: only shapes whose rows are counted here from what the plan knows.

* a segmentation whose series are all plain aggregates or per-user measures: at most one row
  per (series, bucket, group) — previous-period twins are series of their own; one group without
  breakdown, N + 1 with ``breakdown_limit: N`` where every series maps the rest to ``Other`` in
  the statement (``TopN``); a frequency measure (a row per number of events) or a rolling
  measure: no bound;
* retention without breakdown: one row per (cohort, period), the cohort a numbered bucket (or
  the one after them) and the period 0..P (cumulative: capped at P);
* lifecycle without breakdown: one row per (bucket, status) — the bucket before the range and
  the range's buckets, four statuses;
* stickiness without breakdown: one row per (bucket, number of active days), a unit's active days
  in a bucket at most the local days the range touches;
* a funnel without breakdown: one row per (entry bucket, step), the entry bucket one of the
  range's (one more counted, to be safe);
* any other breakdown (its values are the data's; the analyses' top-N is applied in shaping):
  no bound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from .plan import Statuses, TopN
from .plan_funnel import StepAggregate
from .plan_retention import ReturnPeriods

if TYPE_CHECKING:
    from .bind import BoundQuery
    from .plan import LogicalPlan
    from .timeframe import Timeframe

_STATUSES = ("new", "returning", "resurrecting", "dormant")
_ONE_ROW_PER_BUCKET = ("aggregate", "per_user")  # measure families with one row per (series, bucket)


def row_bound(bound: BoundQuery, plan: LogicalPlan) -> int | None:
    """At most how many rows the statement of ``plan`` returns, or None where that is not proven."""
    if plan.analysis is None:
        if not plan.nodes or any(n.measure.definition.family not in _ONE_ROW_PER_BUCKET for n in plan.nodes):
            return None
        groups = _top_groups(bound, plan)
        return None if groups is None else groups * sum(_buckets(n.tf) for n in plan.nodes)
    if bound.query.breakdown or (plan.group_by is not None and plan.group_by.keys):
        return None
    if plan.analysis.kind == "retention":
        periods = next((op for op in plan.analysis.operators if isinstance(op, ReturnPeriods)), None)
        if periods is None:
            return None
        return (periods.buckets + 1) * (periods.periods + 1)
    if plan.analysis.kind == "lifecycle":
        statuses = next((op for op in plan.analysis.operators if isinstance(op, Statuses)), None)
        return None if statuses is None else len(statuses.edges) * len(_STATUSES)
    if plan.analysis.kind == "funnel":
        steps = next((op for op in plan.analysis.operators if isinstance(op, StepAggregate)), None)
        return None if steps is None else (_buckets(plan.analysis.tf) + 1) * steps.steps
    if plan.analysis.kind == "stickiness":
        tf = plan.analysis.tf
        return _buckets(tf) * (_range_days(tf) + 2)  # + 2: a partial local day at each end
    return None


def _top_groups(bound: BoundQuery, plan: LogicalPlan) -> int | None:
    """Groups per (series, bucket) of a segmentation: one without breakdown; with
    ``breakdown_limit``, where every series maps groups beyond its top N to ``Other`` in the
    statement (``TopN``), N + 1; else not proven."""
    if not bound.query.breakdown and not (plan.group_by is not None and plan.group_by.keys):
        return 1
    limits = [next((op.limit for op in n.operators if isinstance(op, TopN)), None) for n in plan.nodes]
    if bound.query.breakdown_limit is None or any(limit is None for limit in limits):
        return None
    return max(limit for limit in limits if limit is not None) + 1


def _range_days(tf: Timeframe) -> int:
    """Whole days (rounded up) between the range's UTC start and end."""
    span = tf.end_utc - tf.start_utc
    return span.days + (1 if span - timedelta(days=span.days) else 0)


def _buckets(tf: Timeframe) -> int:
    return 1 if tf.grain == "total" else len(tf.buckets)
