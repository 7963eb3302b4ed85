"""A built-in measure plugin, registered exactly as a third-party one would be.

``revenue_per_user:P`` — the sum of the numeric property P over the matching events divided by
the number of distinct users who did them (average revenue per paying/active user, ARPU-style).

    series:
      - event: purchase
        measure: revenue_per_user:revenue
"""

from __future__ import annotations

from sqlglot import exp

from segwise.hookspecs import hookimpl
from segwise.measures import MeasureContext, MeasureDefinition


def _aggregate(ctx: MeasureContext) -> exp.Expr:
    assert ctx.value is not None
    users = exp.Nullif(this=exp.Count(this=exp.Distinct(expressions=[ctx.user])), expression=exp.Literal.number(0))
    return exp.Div(this=exp.Sum(this=ctx.value), expression=users)


REVENUE_PER_USER = MeasureDefinition(
    name="revenue_per_user",
    aggregate=_aggregate,
    result="float",
    additive=False,
    property="required",
    description="sum of P over matching events / distinct users",
)


@hookimpl
def segwise_measures() -> list[MeasureDefinition]:
    return [REVENUE_PER_USER]
