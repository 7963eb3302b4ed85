"""Rolling active users by a per-user bitmask of active days (the plan's ``DayMask``, chosen by
the rule ``rolling`` where the dialect's mask integer holds the days read).

1. ``m``: per (user, groups) the OR of ``1 << d`` over its matching events, d = days from the
   event's local day to the range's last day (0 .. days read - 1): one hash aggregate by user,
   no distinct (user, day) pass; under top-N the groups are mapped to ``Other`` first and the
   masks of a user's merged groups OR-ed again (a user in two "other" groups is one user);
2. ``sm``: each mask OR-ed with itself shifted 1 .. N-1 bits towards bit 0: bit d is then set
   when the user is active on one of the N days ending d days before the last day;
3. every bucket's last day (the spine of ``rolling``) is bit ``days(last day of bucket, range's
   last day)``; the users whose spread mask has it are counted per bucket and groups (each user
   is on one row per groups, so a plain count). Only non-empty rows come out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from . import topn
from .rolling import read_look_back, spine
from .rows import group_key, table_ref

if TYPE_CHECKING:
    from .state import Lowering, SeriesPlan


def mask_select(lw: Lowering, plan: SeriesPlan) -> exp.Select:
    """The rolling count of ``plan`` by day masks (see the module's docstring)."""
    flavor = lw.flavor
    window = plan.measure.window_days or 1
    _first, last = read_look_back(lw, plan)
    source = plan.source
    names = [f"_g{j}" for j in range(len(plan.groups))]
    last_day = f"{last:%Y-%m-%d}"
    # a DATE partition column standing in for the event time is compared as the date it is
    bit = flavor.day_mask_bit(flavor.days_before(group_key(source.day_time()), last_day))
    user = source.user()
    masks = source.select(
        [user.as_("_u"), *[g.as_(n) for g, n in zip(plan.groups, names, strict=True)], exp.BitwiseOrAgg(this=bit).as_("_m")]
    )
    masks = masks.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)
    masks = masks.group_by(user.copy(), *[g.copy() for g in plan.groups], copy=False)
    masks_name = f"m{plan.index}"
    if lw.limit is not None:  # groups beyond the top N become Other, then one mask per user again
        raw_name = f"mraw{plan.index}"
        lw.ctes.append((raw_name, masks))
        mapped = topn.mapped(lw, [exp.column(n, table=raw_name) for n in names])
        masks = (
            exp.select(
                exp.column("_u", table=raw_name).as_("_u"),
                *[g.as_(n) for g, n in zip(mapped, names, strict=True)],
                exp.BitwiseOrAgg(this=exp.column("_m", table=raw_name)).as_("_m"),
                copy=False,
            )
            .from_(table_ref(raw_name), copy=False)
            .join(topn.rank_join(lw, raw_name), copy=False)
            .group_by(exp.column("_u", table=raw_name), *[g.copy() for g in mapped], copy=False)
        )
    lw.ctes.append((masks_name, masks))

    mask = exp.column("_m", table=masks_name)
    spread: exp.Expr = mask.copy()
    for k in range(1, window):
        spread = exp.BitwiseOr(this=spread, expression=flavor.day_mask_shift(mask.copy(), k))
    spread_name = f"sm{plan.index}"
    lw.ctes.append(
        (
            spread_name,
            exp.select(*[exp.column(n, table=masks_name).as_(n) for n in names], spread.as_("_m"), copy=False).from_(
                table_ref(masks_name), copy=False
            ),
        )
    )
    ends_name = f"spine{plan.index}"
    ends = spine(lw, plan.tf).subquery("s", copy=False)
    positions = exp.select(
        exp.column("_b", table="s").as_("_b"),
        flavor.days_before(exp.column("_hi", table="s"), last_day).as_("_p"),
        copy=False,
    ).from_(ends, copy=False)
    lw.ctes.append((ends_name, positions))

    outputs: list[exp.Expr] = [exp.Literal.string(plan.label).as_("series")]
    keys: list[exp.Expr] = []
    if lw.tf.grain != "total":
        outputs.append(exp.column("_b", table=ends_name).as_("bucket"))
        keys.append(exp.column("_b", table=ends_name))
    outputs += [exp.column(n, table=spread_name).as_(n) for n in names]
    keys += [exp.column(n, table=spread_name) for n in names]
    outputs.append(flavor.as_bigint(exp.Count(this=exp.Star())).as_("value"))
    has_day = flavor.day_mask_has(exp.column("_m", table=spread_name), exp.column("_p", table=ends_name))
    select = (
        exp.select(*outputs, copy=False)
        .from_(table_ref(ends_name), copy=False)
        .join(table_ref(spread_name), join_type="cross", copy=False)
        .where(has_day, copy=False)
    )
    return select.group_by(*keys, copy=False) if keys else select
