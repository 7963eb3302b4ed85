"""The built-in measures, registered through ``segwise_measures`` exactly as a plugin's are.

Each definition says how it aggregates matching rows and rollup-shaped rows, how its per-group
values combine, and what the planner may do with it (see ``segwise.measures.MeasureDefinition``).
The grammar (``median:P``, ``p90:P``, ``wau``, ``user_avg:events``) maps onto these names:
``percentile`` takes the quantile, ``active_users`` the window, the per-user measures an
aggregate across users (``avg``, ``min``, ``max`` or ``percentile``).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlglot import exp

from segwise.errors import UnsupportedError
from segwise.hookspecs import hookimpl
from segwise.measures import Family, MeasureContext, MeasureDefinition, RollupColumns


def _distinct_users(ctx: MeasureContext) -> exp.Expr:
    return exp.Count(this=exp.Distinct(expressions=[ctx.user]))


def _value(ctx: MeasureContext) -> exp.Expr:
    assert ctx.value is not None, "bind checks the measure's property"
    return ctx.value


def _events_per_user(ctx: MeasureContext) -> exp.Expr:
    users = exp.Nullif(this=_distinct_users(ctx), expression=exp.Literal.number(0))
    return exp.Div(this=ctx.flavor.as_double(exp.Count(this=ctx.row)), expression=users)


def _events_per_user_rollup(ctx: MeasureContext, r: RollupColumns) -> exp.Expr:
    users = exp.Nullif(this=r.users(ctx.user), expression=exp.Literal.number(0))
    return exp.Div(this=ctx.flavor.as_double(exp.Sum(this=r.events)), expression=users)


def _avg_rollup(ctx: MeasureContext, r: RollupColumns) -> exp.Expr:
    assert r.sum is not None and r.count is not None
    count = exp.Nullif(this=exp.Sum(this=r.count), expression=exp.Literal.number(0))
    return exp.Div(this=ctx.flavor.as_double(exp.Sum(this=r.sum)), expression=count)


def _column(r: RollupColumns, name: str) -> exp.Expr:
    column = getattr(r, name)
    assert column is not None, "refusal() checks the rollup keeps it"
    return column


def _percentile(ctx: MeasureContext) -> exp.Expr:
    if not ctx.flavor.capabilities.exact_percentiles:
        raise UnsupportedError(f"{ctx.flavor.name} has no exact percentile; this measure cannot run there")
    return ctx.flavor.as_double(ctx.flavor.percentile(_value(ctx), ctx.quantile or 0.5))


def _users(ctx: MeasureContext) -> exp.Expr:
    return ctx.flavor.as_bigint(_distinct_users(ctx))


def _users_rollup(ctx: MeasureContext, r: RollupColumns) -> exp.Expr:
    return ctx.flavor.as_bigint(r.users(ctx.user))


def _property_measure(
    name: str, fn: type[exp.AggFunc], combine: Literal["sum", "min", "max"] | None
) -> MeasureDefinition:
    """``sum:P``, ``avg:P``, ``min:P``, ``max:P``: an aggregate of a numeric property."""

    def aggregate(ctx: MeasureContext) -> exp.Expr:
        return ctx.flavor.as_double(fn(this=_value(ctx)))

    def from_rollup(ctx: MeasureContext, r: RollupColumns) -> exp.Expr:
        if name == "avg":
            return _avg_rollup(ctx, r)
        return ctx.flavor.as_double(fn(this=_column(r, name)))

    return MeasureDefinition(
        name=name,
        aggregate=aggregate,
        property="required",
        additive=name == "sum",
        description=f"{name} of a numeric property over matching events",
        casts_itself=True,
        rollup=from_rollup,
        rollup_inputs=("sum", "count") if name == "avg" else (name,),
        combine=combine,
        shareable=True,
        reducible=True,
    )


def _events_of_user(ctx: MeasureContext) -> exp.Expr:
    return exp.Count(this=exp.Star())


def _events_of_user_rollup(ctx: MeasureContext, r: RollupColumns) -> exp.Expr:
    return exp.Sum(this=r.events)


def _user_measure(name: str, family: Family, description: str, **fields: Any) -> MeasureDefinition:
    """A measure that follows users (rolling, per user, frequency): ranked and counted by its
    distinct users, exact from rows reduced per user when the rollup keeps user ids."""
    return MeasureDefinition(
        name=name,
        aggregate=_users,  # what ranks top-N groups and counts a group: its users
        description=description,
        family=family,
        casts_itself=True,
        rollup=_users_rollup,
        needs_users=True,
        distinct=True,
        reducible=True,
        **fields,
    )


BUILTIN_MEASURES = (
    MeasureDefinition(
        name="events",
        aggregate=lambda ctx: ctx.flavor.as_bigint(exp.Count(this=ctx.row)),
        result="integer",
        additive=True,
        description="number of matching events",
        casts_itself=True,
        rollup=lambda ctx, r: ctx.flavor.as_bigint(exp.Sum(this=r.events)),
        combine="sum",
        shareable=True,
        reducible=True,
    ),
    MeasureDefinition(
        name="unique_users",
        aggregate=_users,
        result="integer",
        description="distinct users with a matching event in the bucket",
        casts_itself=True,
        rollup=_users_rollup,
        rollup_inputs=(),
        combine="sum",
        combines_only_unique_users=True,
        counts_users=True,
        shareable=True,
        needs_users=True,
        distinct=True,
        reducible=True,
    ),
    MeasureDefinition(
        name="events_per_user",
        aggregate=_events_per_user,
        description="events / distinct users in the bucket",
        casts_itself=True,
        rollup=_events_per_user_rollup,
        counts_users=True,
        shareable=True,
        needs_users=True,
        distinct=True,
        reducible=True,
    ),
    MeasureDefinition(
        name="unique",
        aggregate=lambda ctx: ctx.flavor.as_bigint(exp.Count(this=exp.Distinct(expressions=[_value(ctx)]))),
        result="integer",
        property="required",
        numeric=False,
        description="distinct non-null values of a property among matching events in the bucket",
        casts_itself=True,
        # a distinct count does not re-aggregate: not from rollup rows, not from rows reduced per
        # user (not reducible), not summed across top-N groups (no combine)
        no_rollup="counts distinct values, which rollup rows do not keep (distinct counts do not add up)",
        distinct=True,
        shareable=True,
    ),
    _property_measure("sum", exp.Sum, combine="sum"),
    _property_measure("avg", exp.Avg, combine=None),
    _property_measure("min", exp.Min, combine="min"),
    _property_measure("max", exp.Max, combine="max"),
    MeasureDefinition(
        name="percentile",
        aggregate=_percentile,
        property="required",
        description="exact continuous percentile (linear interpolation) of a property: median:P, pNN:P",
        casts_itself=True,
        no_rollup="needs every value (medians and percentiles do not combine)",
    ),
    _user_measure(
        "active_users",
        "rolling",
        "distinct users with a matching event in the N days ending on the bucket's last day",
        result="integer",
        rollup_inputs=(),
    ),
    _user_measure(
        "user_events",
        "per_user",
        "events per user, then an aggregate across users (user_avg:events ...)",
        per_user=_events_of_user,
        per_user_rollup=_events_of_user_rollup,
    ),
    _user_measure(
        "user_sum",
        "per_user",
        "sum of a property per user, then an aggregate across users (user_p90:sum:P ...)",
        property="required",
        rollup_inputs=("sum",),
        per_user=lambda ctx: exp.Coalesce(this=exp.Sum(this=_value(ctx)), expressions=[exp.Literal.number(0)]),
        per_user_rollup=lambda ctx, r: exp.Coalesce(
            this=exp.Sum(this=_column(r, "sum")), expressions=[exp.Literal.number(0)]
        ),
    ),
    _user_measure(
        "frequency",
        "frequency",
        "users by how many matching events they had (a distribution)",
        result="integer",
        per_user=_events_of_user,
        per_user_rollup=_events_of_user_rollup,
    ),
)


@hookimpl
def segwise_measures() -> list[MeasureDefinition]:
    return list(BUILTIN_MEASURES)
