"""Rolling active users by per-user bitmasks of active days (the plan's ``DayMask``, chosen by
the rule ``rolling`` where the dialect has a mask integer, ``Capabilities.day_mask_bits`` = B).

Day d of the days read is numbered by how many days it lies before the range's last day
(0 .. days - 1); word k holds days kB .. kB + B - 1, bit d - kB.

1. ``m``: per (user, groups, word) the OR of ``1 << bit`` over the matching events: one hash
   aggregate by user, no distinct (user, day) pass and no window sort. Under top-N the groups
   are mapped to ``Other`` first and the masks of a user's merged groups OR-ed again (a user in
   two "other" groups is one user);
2. ``sm``: each word OR-ed with itself shifted 1 .. N-1 bits towards bit 0, so that bit d is set
   when the user is active on one of the N days ending on day d; with more than one word, the
   N-1 days at the bottom of word k+1 also spread into the top of word k (a carry row, OR-ed in
   by a second GROUP BY);
3. the spread words are cut into bytes, the (word, byte, value) combinations counted, and each
   value's set bits summed per day (a histogram: one row per user and byte instead of one per
   user and day); every bucket's last day reads its day's count (day buckets: the bucket is
   computed from the day number; other grains join the bucket spine). Each user is on one row
   per groups, so the count is of distinct users. Only non-empty rows come out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.timeframe import truncate

from . import topn
from .rolling import read_look_back, spine
from .rows import group_key, table_ref

if TYPE_CHECKING:
    from datetime import datetime

    from segwise.adapters.base import SqlFlavor

    from .state import Lowering, SeriesPlan

BYTE = 8


def mask_select(lw: Lowering, plan: SeriesPlan) -> exp.Select:
    """The rolling count of ``plan`` by day masks (see the module's docstring)."""
    flavor = lw.flavor
    width = flavor.capabilities.day_mask_bits
    window = plan.measure.window_days or 1
    first, last = read_look_back(lw, plan)
    words = ((last - first).days + width) // width
    names = [f"_g{j}" for j in range(len(plan.groups))]
    last_day = f"{last:%Y-%m-%d}"
    masks_name = _masks(lw, plan, names, last_day, words > 1)
    spread_name = _spread(lw, plan, masks_name, names, window, words > 1)
    days_name = _histogram(lw, plan, spread_name, names, words > 1)

    if lw.bucketing.grain == "day":  # every bucket is its own last day: computed from the day number
        return _day_buckets(lw, plan, days_name, names, last)
    outputs: list[exp.Expr] = [exp.Literal.string(plan.label).as_("series")]
    ends_name = f"spine{plan.index}"
    ends = exp.Subquery(this=spine(lw, plan), alias=exp.TableAlias(this=exp.to_identifier("s")))
    position = flavor.days_before(exp.column("_hi", table="s"), last_day)
    lw.ctes.append(
        (
            ends_name,
            exp.select(exp.column("_b", table="s").as_("_b"), position.as_("_p"), copy=False).from_(ends, copy=False),
        )
    )
    if not lw.bucketing.total:
        outputs.append(exp.column("_b", table=ends_name).as_("bucket"))
    outputs += [exp.column(n, table=days_name).as_(n) for n in names]
    outputs.append(flavor.as_bigint(exp.column("_n", table=days_name)).as_("value"))
    on = exp.EQ(this=exp.column("_p", table=days_name), expression=exp.column("_p", table=ends_name))
    return (
        exp.select(*outputs, copy=False)
        .from_(table_ref(ends_name), copy=False)
        .join(table_ref(days_name), on=on, join_type="inner", copy=False)
    )


def _day_buckets(lw: Lowering, plan: SeriesPlan, days_name: str, names: list[str], last: datetime) -> exp.Select:
    """Day buckets straight from the day numbers (bucket = the last day read minus ``_p`` days;
    day 0 is the last bucket's), the look-back days left out: no bucket spine and no join, as
    the hand-written SQL does."""
    flavor = lw.flavor
    position = exp.column("_p", table=days_name)
    oldest = (last - truncate(plan.tf.buckets[0], "day", 0)).days  # the first bucket's day number
    outputs: list[exp.Expr] = [
        exp.Literal.string(plan.label).as_("series"),
        flavor.day_before(f"{last:%Y-%m-%d}", position.copy()).as_("bucket"),
        *[exp.column(n, table=days_name).as_(n) for n in names],
        flavor.as_bigint(exp.column("_n", table=days_name)).as_("value"),
    ]
    kept = exp.LTE(this=position.copy(), expression=exp.Literal.number(oldest))
    return exp.select(*outputs, copy=False).from_(table_ref(days_name), copy=False).where(kept, copy=False)


def _masks(lw: Lowering, plan: SeriesPlan, names: list[str], last_day: str, several: bool) -> str:
    """The CTE of one mask word per (user ``_u``, groups, word ``_k`` when ``several``)."""
    flavor = lw.flavor
    width = exp.Literal.number(flavor.capabilities.day_mask_bits)
    source = plan.source
    # a DATE partition column standing in for the event time is compared as the date it is
    before = flavor.days_before(group_key(source.day_time()), last_day)
    bit = exp.Mod(this=exp.paren(before.copy()), expression=width.copy()) if several else before
    user = source.user()
    # the user id is read again only by a second GROUP BY (carry rows, top-N)
    named = [user.as_("_u")] if several or lw.limit is not None else []
    outputs: list[exp.Expr] = [*named, *[g.as_(n) for g, n in zip(plan.groups, names, strict=True)]]
    keys: list[exp.Expr] = [user.copy(), *[g.copy() for g in plan.groups]]
    if several:
        word = flavor.day_mask_word(before)
        outputs.append(word.as_("_k"))
        keys.append(word.copy())
    masks = source.select([*outputs, exp.BitwiseOrAgg(this=flavor.day_mask_bit(bit)).as_("_m")], reads=[user])
    masks = masks.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)
    masks = masks.group_by(*keys, copy=False)
    name = f"m{plan.index}"
    if lw.limit is not None:  # groups beyond the top N become Other, then one mask per user again
        raw = f"mraw{plan.index}"
        lw.ctes.append((raw, masks))
        mapped = topn.mapped(lw, [exp.column(n, table=raw) for n in names])
        extra = [exp.column("_k", table=raw)] if several else []
        masks = (
            exp.select(
                exp.column("_u", table=raw).as_("_u"),
                *[g.as_(n) for g, n in zip(mapped, names, strict=True)],
                *[k.as_("_k") for k in extra],
                exp.BitwiseOrAgg(this=exp.column("_m", table=raw)).as_("_m"),
                copy=False,
            )
            .from_(table_ref(raw), copy=False)
            .join(topn.rank_join(lw, raw), copy=False)
            .group_by(exp.column("_u", table=raw), *[g.copy() for g in mapped], *[k.copy() for k in extra], copy=False)
        )
    lw.ctes.append((name, masks))
    return name


def _spread(lw: Lowering, plan: SeriesPlan, masks: str, names: list[str], window: int, several: bool) -> str:
    """The CTE of the words spread over the window (groups, ``_k`` when ``several``, ``_m``)."""
    flavor = lw.flavor
    name = f"sm{plan.index}"
    mask = exp.column("_m", table=masks)
    groups = [exp.column(n, table=masks).as_(n) for n in names]
    if not several:
        lw.ctes.append(
            (name, exp.select(*groups, _smear(flavor, mask, window).as_("_m"), copy=False).from_(table_ref(masks)))
        )
        return name
    # the bottom N-1 bits of word k+1 (its latest days) spread into the top of word k: moved up
    # N-1 bits, spread, and the part below bit N-1 put at the top of a word
    width = flavor.capabilities.day_mask_bits
    low = flavor.day_mask_low(window - 1)
    carried = flavor.day_mask_up(exp.BitwiseAnd(this=mask.copy(), expression=low.copy()), window - 1)
    spread = exp.BitwiseAnd(this=exp.paren(_smear(flavor, carried, window)), expression=low)
    carry = flavor.day_mask_up(spread, width - window + 1)
    word = exp.column("_k", table=masks)
    own = exp.select(
        exp.column("_u", table=masks).as_("_u"), *groups, word.as_("_k"), _smear(flavor, mask, window).as_("_m")
    )
    into = (
        exp.select(
            exp.column("_u", table=masks).as_("_u"),
            *[g.copy() for g in groups],
            exp.Sub(this=word.copy(), expression=exp.Literal.number(1)).as_("_k"),
            carry.as_("_m"),
        )
        .from_(table_ref(masks))
        .where(exp.GT(this=word.copy(), expression=exp.Literal.number(0)))
    )
    both = exp.union(own.from_(table_ref(masks)), into, distinct=False).subquery("w", copy=False)
    keys = [exp.column(c, table="w") for c in ("_u", *names, "_k")]
    select = exp.select(
        *[exp.column(n, table="w").as_(n) for n in names],
        exp.column("_k", table="w").as_("_k"),
        exp.BitwiseOrAgg(this=exp.column("_m", table="w")).as_("_m"),
    )
    lw.ctes.append((name, select.from_(both).group_by(*keys)))
    return name


def _smear(flavor: SqlFlavor, mask: exp.Expr, window: int) -> exp.Expr:
    """``mask`` OR-ed with itself shifted 1 .. window-1 bits towards bit 0."""
    spread: exp.Expr = mask.copy()
    for k in range(1, window):
        spread = exp.BitwiseOr(this=spread, expression=flavor.day_mask_shift(mask.copy(), k))
    return spread


def _histogram(lw: Lowering, plan: SeriesPlan, spread: str, names: list[str], several: bool) -> str:
    """The CTE of the users active per (groups, day ``_p``): the words' bytes counted, each
    value's set bits summed."""
    flavor = lw.flavor
    width = flavor.capabilities.day_mask_bits
    byte_index = exp.column("_y", table="y")
    value = flavor.day_mask_byte(exp.column("_m", table=spread), byte_index)
    groups = [exp.column(n, table=spread) for n in names]
    word: list[exp.Expr] = [exp.column("_k", table=spread)] if several else []
    cut = (
        exp.select(*[g.as_(n) for g, n in zip(groups, names, strict=True)], *[w.as_("_k") for w in word])
        .select(byte_index.as_("_y"), value.as_("_v"), copy=False)
        .from_(table_ref(spread))
        .join(_numbers(flavor, -(-width // BYTE), "y", "_y"), join_type="cross")
    )
    cut_name, counts_name, days_name = f"mb{plan.index}", f"mh{plan.index}", f"md{plan.index}"
    lw.ctes.append((cut_name, cut))
    keys = [exp.column(c, table=cut_name) for c in (*names, *(["_k"] if several else []), "_y", "_v")]
    counts = (
        exp.select(*[k.as_(k.name) for k in keys], exp.Count(this=exp.Star()).as_("_n"))
        .from_(table_ref(cut_name))
        .where(exp.NEQ(this=exp.column("_v", table=cut_name), expression=exp.Literal.number(0)))
        .group_by(*[k.copy() for k in keys])
    )
    lw.ctes.append((counts_name, counts))
    bit = exp.column("_j", table="j")
    day: exp.Expr = exp.Add(
        this=exp.Mul(this=exp.column("_y", table=counts_name), expression=exp.Literal.number(BYTE)), expression=bit
    )
    if several:
        start = exp.Mul(this=exp.column("_k", table=counts_name), expression=exp.Literal.number(width))
        day = exp.Add(this=start, expression=day)
    shifted = exp.paren(exp.BitwiseRightShift(this=exp.column("_v", table=counts_name), expression=bit.copy()))
    has = exp.EQ(this=exp.BitwiseAnd(this=shifted, expression=exp.Literal.number(1)), expression=exp.Literal.number(1))
    group_columns = [exp.column(n, table=counts_name) for n in names]
    days = (
        exp.select(*[g.as_(n) for g, n in zip(group_columns, names, strict=True)], day.as_("_p"))
        .select(exp.Sum(this=exp.column("_n", table=counts_name)).as_("_n"), copy=False)
        .from_(table_ref(counts_name))
        .join(_numbers(flavor, BYTE, "j", "_j"), join_type="cross")
        .where(has)
        .group_by(*[g.copy() for g in group_columns], day.copy())
    )
    lw.ctes.append((days_name, days))
    return days_name


def _numbers(flavor: SqlFlavor, count: int, alias: str, column: str) -> exp.Subquery:
    """``(SELECT column FROM (VALUES (0), ..., (count - 1))) AS alias``."""
    rows = [exp.Tuple(expressions=[exp.Literal.number(i)]) for i in range(count)]
    return flavor.values_table(rows, [column]).subquery(alias, copy=False)
