"""What the demo's users do: sessions (signup/login, page views, feature uses, purchases), payments, pushes.

Each stage appends column blocks of event rows to an ``Events`` collector as integer codes into the
model's vocabularies (-1 = null) and floats (NaN = null); ``generate.py`` turns them into Arrow.
"""

from __future__ import annotations

import numpy as np

from .model import (
    CAMPAIGNS,
    DAY,
    EVENT_CODES,
    EVENT_NAMES,
    FEATURE_GIVEN_SUB,
    HOUR,
    MINUTE,
    MONTHLY_SHARE,
    NOTIFICATIONS,
    OPEN_RATE,
    PLAN_DAYS,
    PRICE,
    REFERRER_GIVEN_CAMPAIGN,
    SECOND,
    TRIAL,
    WEEKDAY_W,
)
from .sampling import (
    at_local_time_of_day,
    campaign_weights,
    ceil_div,
    choice_given,
    expand,
    sample_by_day,
    url_weights,
    weekday_of,
)
from .users import Users


class Events:
    """Column blocks of event rows as integer codes (-1 = null) and floats (NaN = null)."""

    CODES = (
        "platform",
        "campaign",
        "url",
        "referrer",
        "feature",
        "plan",
        "notification",
        "session",
    )
    FLOATS = ("revenue", "amount")

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, user: np.ndarray, t: np.ndarray, name: str, **columns: np.ndarray) -> None:
        n = len(user)
        block = {"user": user.astype(np.int64), "time": t.astype(np.int64)}
        block["name"] = np.full(n, EVENT_CODES[name], dtype=np.int8)
        for key in self.CODES:
            block[key] = columns.pop(key, np.full(n, -1)).astype(np.int64)
        for key in self.FLOATS:
            block[key] = columns.pop(key, np.full(n, np.nan)).astype(np.float64)
        if columns:
            raise TypeError(f"unknown event columns: {sorted(columns)}")
        self.blocks.append(block)

    def concatenated(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}


def make_sessions(rng: np.random.Generator, u: Users, start_us: int, end_us: int, events: Events) -> int:
    """Sessions and the events in them: signup/login, page views, feature uses, purchases.

    Returns the number of sessions (their ids are ``s0000001`` ... in start-time order).
    """
    days = (end_us - start_us) // DAY
    lo = np.maximum(u.signup, start_us)
    hi = np.minimum(u.lifetime_end, end_us)
    active_days = np.clip(hi - lo, 0, None) / DAY

    # candidate sessions at the busiest weekday rate, thinned to each local weekday's rate
    boost = WEEKDAY_W.max() / WEEKDAY_W.mean()
    owner, _ = expand(rng.poisson(u.session_rate * active_days * boost))
    t = lo[owner] + (rng.random(len(owner)) * (hi - lo)[owner]).astype(np.int64)
    t = at_local_time_of_day(rng, t, u.offset[owner], lo[owner], hi[owner])
    weekday = weekday_of((t + u.offset[owner]) // DAY)
    keep = rng.random(len(t)) < WEEKDAY_W[weekday] / WEEKDAY_W.max()
    owner, t = owner[keep], t[keep]

    # every user who signs up inside the data range has a session that starts with the signup
    new = np.flatnonzero(u.signup >= start_us)
    s_user = np.concatenate([new, owner])
    s_start = np.concatenate([u.signup[new], t])
    s_signup = np.concatenate([np.ones(len(new), bool), np.zeros(len(owner), bool)])
    order = np.lexsort((s_user, s_start))  # session ids follow start time
    s_user, s_start, s_signup = s_user[order], s_start[order], s_signup[order]
    n = len(s_user)

    platform = np.where(rng.random(n) < 0.8, u.platform[s_user], rng.integers(0, 3, n))
    mobile = platform > 0
    day = (s_start - start_us) // DAY
    campaign = sample_by_day(rng, day, campaign_weights(days, start_us // DAY)) - 1
    # sign-up sessions are attributed by how the user was acquired
    ads = s_signup & (u.channel[s_user] == 1)
    paid = np.array(campaign_weights(days, start_us // DAY))
    paid[:, [0, 2, 5]] = 0.0  # ads: no organic, newsletter or partner traffic
    campaign[ads] = sample_by_day(rng, day[ads], paid) - 1
    campaign[s_signup & np.isin(u.channel[s_user], [0, 2])] = -1
    campaign[s_signup & (u.channel[s_user] == 3)] = CAMPAIGNS.index("partner_promo")

    session = np.arange(n)
    first_name = np.where(s_signup, EVENT_CODES["signup"], EVENT_CODES["login"])
    has_first = s_signup | (rng.random(n) < 0.8)
    for code in (EVENT_CODES["signup"], EVENT_CODES["login"]):
        sel = has_first & (first_name == code)
        events.add(
            s_user[sel],
            s_start[sel],
            EVENT_NAMES[code],
            platform=platform[sel],
            session=session[sel],
        )

    # page views: a landing page (with the referrer) and in-session navigation
    pv_mean = u.page_views[s_user] * np.where(mobile, 0.5, 1.0)
    pv_count = np.where(mobile, 0, 1) + rng.poisson(pv_mean)
    pv_session, pv_index = expand(pv_count)
    gaps = 2 * SECOND + rng.exponential(50.0, len(pv_session)) * SECOND
    cumulative = np.cumsum(gaps)
    first_of_session = np.cumsum(pv_count) - pv_count
    before = np.concatenate([[0.0], cumulative])[first_of_session][pv_session]
    pv_offset = (cumulative - before).astype(np.int64)
    pv_day = day[pv_session]
    landing = pv_index == 0
    url = np.empty(len(pv_session), dtype=np.int64)
    url[landing] = sample_by_day(rng, pv_day[landing], url_weights(days, 1))
    url[~landing] = sample_by_day(rng, pv_day[~landing], url_weights(days, 2))
    referrer = choice_given(rng, campaign[pv_session] + 1, np.array(REFERRER_GIVEN_CAMPAIGN)) - 1
    referrer = np.where(landing, referrer, -1)
    events.add(
        s_user[pv_session],
        s_start[pv_session] + pv_offset,
        "page_view",
        platform=platform[pv_session],
        campaign=campaign[pv_session],
        url=url,
        referrer=referrer,
        session=pv_session,
    )

    last_pv = np.maximum(first_of_session + pv_count - 1, 0)
    session_end = np.where(pv_count > 0, pv_offset[np.minimum(last_pv, len(pv_offset) - 1)], 0)
    session_end += (5 * MINUTE + rng.exponential(6.0, n) * MINUTE).astype(np.int64)

    feature_mean = u.feature_rate[s_user] * np.where(s_signup, 0.6, 1.0)
    f_session, _ = expand(rng.poisson(feature_mean))
    f_offset = 2 * SECOND + (rng.random(len(f_session)) * session_end[f_session]).astype(np.int64)
    feature = choice_given(rng, u.subscription[s_user[f_session]], np.array(FEATURE_GIVEN_SUB))
    events.add(
        s_user[f_session],
        s_start[f_session] + f_offset,
        "feature_used",
        platform=platform[f_session],
        feature=feature,
        session=f_session,
    )

    p_session, _ = expand(rng.poisson(u.purchase_rate[s_user]))
    p_offset = session_end[p_session] + (rng.exponential(40.0, len(p_session)) * SECOND).astype(np.int64)
    m = len(p_session)
    big = rng.random(m) < 0.04
    revenue = np.where(big, 150.0 * (1.0 + rng.pareto(1.8, m)), rng.lognormal(np.log(28.0), 0.8, m))
    revenue = np.maximum(np.round(np.minimum(revenue, 10_000.0), 2), 0.99)
    events.add(
        s_user[p_session],
        s_start[p_session] + p_offset,
        "purchase",
        platform=platform[p_session],
        revenue=revenue,
        session=p_session,
    )
    return n


def make_payments(rng: np.random.Generator, u: Users, start_us: int, end_us: int, events: Events) -> None:
    """Subscription billing: monthly every 30 days or yearly, from the end of a 14-day trial."""
    payer = np.flatnonzero(u.subscription > 0)
    sub = u.subscription[payer]
    plan = (rng.random(len(payer)) >= MONTHLY_SHARE[sub]).astype(np.int64)
    interval = PLAN_DAYS[plan] * DAY
    first = u.signup[payer] + TRIAL + rng.integers(0, 2 * HOUR, len(payer))
    limit = np.minimum(u.lifetime_end[payer], end_us)  # they cancel when they churn
    k_lo = np.maximum(0, ceil_div(start_us - first, interval))
    k_hi = ceil_div(limit - first, interval)
    owner, within = expand(np.maximum(k_hi - k_lo, 0))
    jitter = rng.integers(0, 3 * HOUR, len(owner))  # billing runs are not to the second
    t = first[owner] + (k_lo[owner] + within) * interval[owner] + jitter
    events.add(
        payer[owner],
        t,
        "payment",
        platform=u.platform[payer[owner]],
        plan=plan[owner],
        amount=PRICE[sub[owner], plan[owner]],
    )


def make_push(rng: np.random.Generator, u: Users, start_us: int, end_us: int, events: Events) -> None:
    """Push notifications: a Monday digest, promo blasts, reminders (more once users go quiet)."""
    days = (end_us - start_us) // DAY
    target = np.flatnonzero(u.push_platform >= 0)
    lo = np.maximum(u.signup[target], start_us)
    hi = np.minimum(u.push_end[target], end_us)
    first_day = start_us // DAY
    epoch_days = first_day + np.arange(days)

    sent_user: list[np.ndarray] = []
    sent_time: list[np.ndarray] = []
    sent_type: list[np.ndarray] = []

    def scheduled(send_times: np.ndarray, share: float, kind: int) -> None:
        subscribed = rng.random(len(target)) < share
        i_lo = np.searchsorted(send_times, lo)
        i_hi = np.searchsorted(send_times, hi)
        owner, within = expand(np.where(subscribed, np.maximum(i_hi - i_lo, 0), 0))
        batch = rng.integers(0, 25 * MINUTE, len(owner))  # a send run takes a while
        sent_user.append(target[owner])
        sent_time.append(send_times[i_lo[owner] + within] + batch)
        sent_type.append(np.full(len(owner), kind))

    mondays = epoch_days[weekday_of(epoch_days) == 0] * DAY + 9 * HOUR
    scheduled(mondays, 0.7, NOTIFICATIONS.index("digest"))
    promo_days = np.sort(rng.choice(days, size=max(1, days // 18), replace=False))
    scheduled((first_day + promo_days) * DAY + 17 * HOUR, 0.8, NOTIFICATIONS.index("promo"))

    # reminders: rare while active, frequent once a user stopped coming back
    life_end = np.clip(u.lifetime_end[target], lo, hi)
    for a, b, rate in ((lo, life_end, 0.04), (life_end, hi, 0.3)):
        span = np.clip(b - a, 0, None)
        owner, _ = expand(rng.poisson(rate * span / DAY))
        t = a[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
        t = at_local_time_of_day(rng, t, u.offset[target[owner]], a[owner], b[owner])
        sent_user.append(target[owner])
        sent_time.append(t)
        sent_type.append(np.full(len(owner), NOTIFICATIONS.index("reminder")))

    user = np.concatenate(sent_user)
    t = np.concatenate(sent_time)
    kind = np.concatenate(sent_type)
    platform = u.push_platform[user]
    events.add(user, t, "push_sent", platform=platform, notification=kind)

    still_active = t < u.lifetime_end[user]
    p_open = OPEN_RATE[kind] * np.where(still_active, 2.2, 0.35)
    opened = rng.random(len(t)) < p_open
    delay = 5 * SECOND + (rng.exponential(12.0, len(t)) * MINUTE).astype(np.int64)
    events.add(
        user[opened],
        (t + delay)[opened],
        "push_opened",
        platform=platform[opened],
        notification=kind[opened],
    )
