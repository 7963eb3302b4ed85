"""A deterministic, realistic product-analytics data set for the demo, the gallery and tests.

One numpy ``Generator`` drives everything, always in the same order, so a seed gives the same tables
on every machine. Work is vectorised per stage (users, sessions, events in sessions, payments,
push notifications); there is no Python loop per event.

The story the data tells: a SaaS product with a marketing site. Users sign up over the period (some
signed up up to 60 days before it, so the data starts with an existing base), come back in sessions
at a heavy-tailed per-user rate, busier on weekdays and in their local working hours, and stop after
a personal lifetime (many try it once, paying users stay long). Paying users are billed monthly or
yearly; mobile users get push notifications, a few of which they open.

    >>> users, events = generate_tables(users=200, days=14)
    >>> users.num_rows, events.column_names[:4]
    (200, ['user_id', 'event_time', 'event_name', 'event_date'])

Only events inside ``[start, start + days)`` are kept. A user who signed up before ``start``
therefore has no ``signup`` event (it predates the data); every user who signed up inside the range
has exactly one, at ``signup_time``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DEFAULT_START",
    "EVENTS_SCHEMA",
    "EVENT_NAMES",
    "USERS_SCHEMA",
    "DemoInfo",
    "generate_tables",
    "write_duckdb",
]

Progress = Callable[[int, int], None]

DEFAULT_START = date(2025, 1, 1)
PRE_SIGNUP_DAYS = 60  # users may have signed up this long before the data starts

SECOND = 1_000_000  # timestamps are int64 microseconds since the Unix epoch, UTC
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
_EPOCH = date(1970, 1, 1)

USERS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("signup_time", pa.timestamp("us")),
        ("country", pa.string()),
        ("city", pa.string()),
        ("subscription_type", pa.string()),
        ("license_type", pa.string()),
        ("account_type", pa.string()),
        ("acquisition_channel", pa.string()),
    ]
)

EVENTS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("event_time", pa.timestamp("us")),
        ("event_name", pa.string()),
        ("event_date", pa.date32()),
        ("platform", pa.string()),
        ("campaign", pa.string()),
        ("url", pa.string()),
        ("referrer", pa.string()),
        ("feature", pa.string()),
        ("revenue", pa.float64()),
        ("plan", pa.string()),
        ("amount", pa.float64()),
        ("notification_type", pa.string()),
        ("session_id", pa.string()),
    ]
)

EVENT_NAMES = (
    "signup",
    "login",
    "page_view",
    "feature_used",
    "purchase",
    "payment",
    "push_sent",
    "push_opened",
)
_EV = {name: code for code, name in enumerate(EVENT_NAMES)}

# -- vocabularies and the weights that shape them -------------------------------------------------

# code, share of users, typical UTC offset (hours, for the local time-of-day pattern), cities
_COUNTRIES: tuple[tuple[str, float, float, tuple[tuple[str, float], ...]], ...] = (
    ("US", 30, -6.0, (("New York", 4), ("San Francisco", 3), ("Austin", 2), ("Chicago", 2))),
    ("GB", 9, 0.0, (("London", 6), ("Manchester", 2), ("Edinburgh", 1))),
    ("DE", 8, 1.0, (("Berlin", 4), ("Munich", 3), ("Hamburg", 2))),
    ("IN", 8, 5.5, (("Bengaluru", 4), ("Mumbai", 3), ("Delhi", 3))),
    ("FR", 6, 1.0, (("Paris", 5), ("Lyon", 2))),
    ("BR", 6, -3.0, (("Sao Paulo", 4), ("Rio de Janeiro", 2))),
    ("CA", 5, -5.0, (("Toronto", 3), ("Vancouver", 2), ("Montreal", 2))),
    ("AU", 4, 10.0, (("Sydney", 3), ("Melbourne", 2))),
    ("JP", 4, 9.0, (("Tokyo", 4), ("Osaka", 2))),
    ("ES", 4, 1.0, (("Madrid", 3), ("Barcelona", 3))),
    ("NL", 3, 1.0, (("Amsterdam", 3), ("Rotterdam", 1), ("Utrecht", 1))),
    ("IT", 3, 1.0, (("Milan", 2), ("Rome", 2))),
    ("MX", 3, -6.0, (("Mexico City", 3), ("Guadalajara", 1))),
    ("PL", 2, 1.0, (("Warsaw", 2), ("Krakow", 1))),
    ("SE", 2, 1.0, (("Stockholm", 2), ("Gothenburg", 1))),
)
COUNTRIES = tuple(c[0] for c in _COUNTRIES)
CITIES = tuple(city for c in _COUNTRIES for city, _ in c[3])

SUBSCRIPTIONS = ("free", "basic", "pro", "enterprise")
_SUBSCRIPTION_W = (58, 20, 16, 6)
_SUB_ACTIVITY = np.array([1.0, 1.25, 1.5, 1.8])  # sessions per day multiplier
_SUB_FEATURES = np.array([0.8, 1.0, 1.3, 1.6])  # feature uses per session multiplier

LICENSES = ("individual", "team", "enterprise")
_LICENSE_GIVEN_SUB = ((90, 10, 0), (70, 30, 0), (35, 55, 10), (0, 20, 80))

ACCOUNTS = ("personal", "business", "education")
_ACCOUNT_GIVEN_LICENSE = ((62, 23, 15), (5, 80, 15), (0, 90, 10))

CHANNELS = ("organic", "ads", "referral", "partner")
_CHANNEL_W = (45, 25, 20, 10)

PLATFORMS = ("web", "ios", "android")
_PLATFORM_W = (55, 25, 20)

CAMPAIGNS = ("spring_sale", "newsletter", "brand_search", "retargeting", "partner_promo")
ORGANIC_SHARE = 0.4  # page-view sessions with no campaign

REFERRERS = (
    "google.com",
    "bing.com",
    "news.ycombinator.com",
    "reddit.com",
    "twitter.com",
    "facebook.com",
    "linkedin.com",
    "mail.google.com",
    "producthunt.com",
    "g2.com",
)
# rows: organic, then CAMPAIGNS in order; first column: no referrer (direct, e-mail client, app)
_REFERRER_GIVEN_CAMPAIGN = (
    (55, 28, 5, 4, 3, 3, 0, 0, 0, 2, 0),
    (30, 20, 0, 0, 0, 20, 30, 0, 0, 0, 0),
    (75, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0),
    (0, 85, 15, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 20, 50, 30, 0, 0, 0),
    (10, 0, 0, 0, 0, 0, 0, 0, 0, 50, 40),
)

# url, landing-page weight, in-session weight, publication (fraction of the period; None: always)
_URLS: tuple[tuple[str, float, float, float | None], ...] = (
    ("/", 30, 8, None),
    ("/pricing", 12, 10, None),
    ("/features", 6, 8, None),
    ("/docs", 5, 16, None),
    ("/docs/getting-started", 3, 12, None),
    ("/docs/api", 1, 8, None),
    ("/integrations", 2, 5, None),
    ("/customers", 2, 3, None),
    ("/changelog", 1, 4, None),
    ("/contact", 1, 2, None),
    ("/blog/launch-week", 4, 2, None),
    ("/blog/segmentation-101", 5, 2, 0.2),
    ("/blog/warehouse-native-analytics", 5, 2, 0.45),
    ("/blog/retention-playbook", 5, 2, 0.7),
)
URLS = tuple(u[0] for u in _URLS)

FEATURES = (
    "dashboards",
    "reports",
    "export",
    "alerts",
    "sharing",
    "api",
    "integrations",
    "notebooks",
)
_FEATURE_GIVEN_SUB = (
    (40, 25, 15, 8, 8, 1, 2, 1),
    (30, 25, 15, 12, 10, 2, 4, 2),
    (20, 20, 12, 12, 12, 8, 8, 8),
    (12, 15, 10, 12, 15, 16, 12, 8),
)

PLANS = ("monthly", "yearly")
_MONTHLY_SHARE = np.array([0.0, 0.8, 0.65, 0.35])  # by subscription type
_PRICE = np.array([[0.0, 0.0], [9.0, 99.0], [29.0, 299.0], [49.0, 499.0]])  # [sub, plan]
_PLAN_DAYS = np.array([30, 365])
_TRIAL = 14 * DAY

NOTIFICATIONS = ("promo", "reminder", "digest")
_OPEN_RATE = np.array([0.05, 0.08, 0.10])  # while the user is still active; far lower after

# Monday .. Sunday: weekdays are busier
_WEEKDAY_W = np.array([1.0, 1.04, 1.06, 1.0, 0.9, 0.55, 0.5])


@dataclass(frozen=True)
class DemoInfo:
    """What ``write_duckdb`` wrote."""

    path: Path
    users: int
    events: int
    first_event_time: datetime
    last_event_time: datetime
    start_date: date
    end_date: date  # exclusive: events lie in [start_date, end_date)


# -- small vectorised helpers ----------------------------------------------------------------------


def _probabilities(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum(axis=-1, keepdims=True)


_SCALE = 1 << 32  # resolution of the integer sampling thresholds


def _choice(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=_probabilities(weights))


def _choice_given(rng: np.random.Generator, parent: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Sample one category per row from the row of ``matrix`` (weights) chosen by ``parent``.

    Exact integer thresholds, all rows searched at once: a zero-weight category is never chosen.
    """
    k = matrix.shape[1]
    thresholds = np.round(np.cumsum(_probabilities(matrix), axis=1) * _SCALE).astype(np.int64)
    thresholds[:, -1] = _SCALE
    rows = np.arange(matrix.shape[0], dtype=np.int64)[:, None] * _SCALE
    flat = (rows + thresholds).ravel()
    parent = parent.astype(np.int64)
    keys = parent * _SCALE + rng.integers(0, _SCALE, len(parent))
    return np.searchsorted(flat, keys, side="right") - parent * k


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts, the owner of each expanded row and the row's index within its owner."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    within = np.arange(int(counts.sum())) - first[owner]
    return owner, within


def _ceil_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    return -((-a) // b)


def _weekday(epoch_day: np.ndarray) -> np.ndarray:
    return (epoch_day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def _local_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Local time of day (µs): a working-hours peak and a smaller evening peak."""
    work = rng.random(n) < 0.62
    hours = np.where(work, rng.normal(14.0, 2.8, n), rng.normal(20.5, 1.8, n))
    return (hours * HOUR).astype(np.int64) % DAY


def _at_local_time_of_day(
    rng: np.random.Generator, t: np.ndarray, offset: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Move each time to a typical local time of its local day, when that stays in [lo, hi)."""
    local_day = (t + offset) // DAY
    moved = local_day * DAY + _local_time_of_day(rng, len(t)) - offset
    return np.where((moved >= lo) & (moved < hi), moved, t)


def _sample_by_day(rng: np.random.Generator, day: np.ndarray, per_day: np.ndarray) -> np.ndarray:
    """Sample a category per row from the weights of its day (``per_day``: days x categories)."""
    return _choice_given(rng, np.clip(day, 0, per_day.shape[0] - 1), per_day)


def _campaign_weights(days: int, first_epoch_day: int) -> np.ndarray:
    """days x (organic + campaigns): how campaign traffic evolves over the period."""
    d = np.arange(days, dtype=float)
    frac = d / max(days - 1, 1)
    weekday = _weekday(first_epoch_day + np.arange(days))
    spring_sale = np.where((frac >= 0.38) & (frac < 0.55), 3.0, 0.0)
    newsletter = np.where(weekday == 1, 2.2, np.where(weekday == 2, 0.9, 0.15))
    brand_search = 0.8 + 0.6 * frac
    retargeting = np.clip((frac - 0.15) * 2.0, 0.0, 1.3)
    bursts = ((frac >= 0.1) & (frac < 0.16)) | ((frac >= 0.84) & (frac < 0.92))
    partner_promo = np.where(bursts, 2.5, 0.0)
    campaigns = np.column_stack([spring_sale, newsletter, brand_search, retargeting, partner_promo])
    organic = np.full(days, campaigns.sum(axis=1).mean() * ORGANIC_SHARE / (1 - ORGANIC_SHARE))
    return np.column_stack([organic, campaigns])


def _url_weights(days: int, column: int) -> np.ndarray:
    """days x urls; blog posts appear when published and draw a burst of traffic that fades."""
    d = np.arange(days, dtype=float)
    out = np.empty((days, len(_URLS)))
    for j, url in enumerate(_URLS):
        base, published = url[column], url[3]
        if published is None:
            out[:, j] = base
        else:
            age = d - published * days
            out[:, j] = np.where(age >= 0, base * (1 + 5 * np.exp(-np.maximum(age, 0) / 8)), 0.0)
    return out


# -- the stages ------------------------------------------------------------------------------------


@dataclass
class _Users:
    signup: np.ndarray  # µs
    country: np.ndarray
    city: np.ndarray
    subscription: np.ndarray
    license: np.ndarray
    account: np.ndarray
    channel: np.ndarray
    offset: np.ndarray  # µs to add to UTC for local time
    platform: np.ndarray  # primary platform
    lifetime_end: np.ndarray  # µs: no sessions after this
    session_rate: np.ndarray  # sessions per active day
    page_views: np.ndarray  # mean extra page views per session
    feature_rate: np.ndarray  # mean feature uses per session
    purchase_rate: np.ndarray  # mean purchases per session
    push_platform: np.ndarray  # -1: no push notifications
    push_end: np.ndarray  # µs: app uninstalled


def _make_users(rng: np.random.Generator, n: int, start_us: int, end_us: int) -> _Users:
    first_day = start_us // DAY - PRE_SIGNUP_DAYS
    span = (end_us - start_us) // DAY + PRE_SIGNUP_DAYS
    epoch_days = first_day + np.arange(span)
    growth = np.linspace(0.6, 1.4, span)  # the product grows: later days bring more sign-ups
    day_w = growth * _WEEKDAY_W[_weekday(epoch_days)]
    signup_day = epoch_days[rng.choice(span, size=n, p=day_w / day_w.sum())]

    country = _choice(rng, n, [c[1] for c in _COUNTRIES])
    offset = (np.array([c[2] for c in _COUNTRIES]) * HOUR).astype(np.int64)[country]
    city_w = np.zeros((len(COUNTRIES), len(CITIES)))
    col = 0
    for i, (_, _, _, cities) in enumerate(_COUNTRIES):
        for _, weight in cities:
            city_w[i, col] = weight
            col += 1
    city = _choice_given(rng, country, city_w)

    signup = signup_day * DAY + _local_time_of_day(rng, n) - offset
    lo, hi = first_day * DAY, end_us
    outside = (signup < lo) | (signup >= hi)
    signup = np.where(outside, signup_day * DAY + rng.integers(0, DAY, n), signup)

    subscription = _choice(rng, n, _SUBSCRIPTION_W)
    license_ = _choice_given(rng, subscription, np.array(_LICENSE_GIVEN_SUB))
    account = _choice_given(rng, license_, np.array(_ACCOUNT_GIVEN_LICENSE))
    channel = _choice(rng, n, _CHANNEL_W)
    platform = _choice(rng, n, _PLATFORM_W)

    paying = subscription > 0
    tourist = rng.random(n) < np.where(paying, 0.08, 0.38)
    life_days = np.where(tourist, rng.exponential(2.5, n), rng.exponential(np.where(paying, 320.0, 110.0)))
    lifetime_end = signup + ((life_days + 0.02) * DAY).astype(np.int64)

    session_rate = rng.lognormal(np.log(0.16), 0.9, n) * _SUB_ACTIVITY[subscription]
    session_rate = np.minimum(session_rate, 6.0)
    page_views = rng.lognormal(np.log(1.6), 0.5, n)
    feature_rate = rng.lognormal(np.log(0.9), 0.6, n) * _SUB_FEATURES[subscription]
    purchase_rate = np.minimum(0.02 * rng.lognormal(0.0, 1.1, n), 0.8)

    mobile = platform > 0
    opted_in = rng.random(n) < np.where(mobile, 0.7, 0.15)
    push_platform = np.where(opted_in, np.where(mobile, platform, 1 + rng.integers(0, 2, n)), -1)
    push_end = lifetime_end + (rng.exponential(25.0, n) * DAY).astype(np.int64)

    users = _Users(
        signup=signup,
        country=country,
        city=city,
        subscription=subscription,
        license=license_,
        account=account,
        channel=channel,
        offset=offset,
        platform=platform,
        lifetime_end=lifetime_end,
        session_rate=session_rate,
        page_views=page_views,
        feature_rate=feature_rate,
        purchase_rate=purchase_rate,
        push_platform=push_platform,
        push_end=push_end,
    )
    order = np.argsort(signup, kind="stable")  # user ids follow sign-up order
    return _Users(**{k: v[order] for k, v in vars(users).items()})


class _Events:
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
        block["name"] = np.full(n, _EV[name], dtype=np.int8)
        for key in self.CODES:
            block[key] = columns.pop(key, np.full(n, -1)).astype(np.int64)
        for key in self.FLOATS:
            block[key] = columns.pop(key, np.full(n, np.nan)).astype(np.float64)
        if columns:
            raise TypeError(f"unknown event columns: {sorted(columns)}")
        self.blocks.append(block)

    def concatenated(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}


def _make_sessions(rng: np.random.Generator, u: _Users, start_us: int, end_us: int, events: _Events) -> int:
    """Sessions and the events in them: signup/login, page views, feature uses, purchases.

    Returns the number of sessions (their ids are ``s0000001`` ... in start-time order).
    """
    days = (end_us - start_us) // DAY
    lo = np.maximum(u.signup, start_us)
    hi = np.minimum(u.lifetime_end, end_us)
    active_days = np.clip(hi - lo, 0, None) / DAY

    # candidate sessions at the busiest weekday rate, thinned to each local weekday's rate
    boost = _WEEKDAY_W.max() / _WEEKDAY_W.mean()
    owner, _ = _expand(rng.poisson(u.session_rate * active_days * boost))
    t = lo[owner] + (rng.random(len(owner)) * (hi - lo)[owner]).astype(np.int64)
    t = _at_local_time_of_day(rng, t, u.offset[owner], lo[owner], hi[owner])
    weekday = _weekday((t + u.offset[owner]) // DAY)
    keep = rng.random(len(t)) < _WEEKDAY_W[weekday] / _WEEKDAY_W.max()
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
    campaign = _sample_by_day(rng, day, _campaign_weights(days, start_us // DAY)) - 1
    # sign-up sessions are attributed by how the user was acquired
    ads = s_signup & (u.channel[s_user] == 1)
    paid = np.array(_campaign_weights(days, start_us // DAY))
    paid[:, [0, 2, 5]] = 0.0  # ads: no organic, newsletter or partner traffic
    campaign[ads] = _sample_by_day(rng, day[ads], paid) - 1
    campaign[s_signup & np.isin(u.channel[s_user], [0, 2])] = -1
    campaign[s_signup & (u.channel[s_user] == 3)] = CAMPAIGNS.index("partner_promo")

    session = np.arange(n)
    first_name = np.where(s_signup, _EV["signup"], _EV["login"])
    has_first = s_signup | (rng.random(n) < 0.8)
    for code in (_EV["signup"], _EV["login"]):
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
    pv_session, pv_index = _expand(pv_count)
    gaps = 2 * SECOND + rng.exponential(50.0, len(pv_session)) * SECOND
    cumulative = np.cumsum(gaps)
    first_of_session = np.cumsum(pv_count) - pv_count
    before = np.concatenate([[0.0], cumulative])[first_of_session][pv_session]
    pv_offset = (cumulative - before).astype(np.int64)
    pv_day = day[pv_session]
    landing = pv_index == 0
    url = np.empty(len(pv_session), dtype=np.int64)
    url[landing] = _sample_by_day(rng, pv_day[landing], _url_weights(days, 1))
    url[~landing] = _sample_by_day(rng, pv_day[~landing], _url_weights(days, 2))
    referrer = _choice_given(rng, campaign[pv_session] + 1, np.array(_REFERRER_GIVEN_CAMPAIGN)) - 1
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
    f_session, _ = _expand(rng.poisson(feature_mean))
    f_offset = 2 * SECOND + (rng.random(len(f_session)) * session_end[f_session]).astype(np.int64)
    feature = _choice_given(rng, u.subscription[s_user[f_session]], np.array(_FEATURE_GIVEN_SUB))
    events.add(
        s_user[f_session],
        s_start[f_session] + f_offset,
        "feature_used",
        platform=platform[f_session],
        feature=feature,
        session=f_session,
    )

    p_session, _ = _expand(rng.poisson(u.purchase_rate[s_user]))
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


def _make_payments(rng: np.random.Generator, u: _Users, start_us: int, end_us: int, events: _Events) -> None:
    """Subscription billing: monthly every 30 days or yearly, from the end of a 14-day trial."""
    payer = np.flatnonzero(u.subscription > 0)
    sub = u.subscription[payer]
    plan = (rng.random(len(payer)) >= _MONTHLY_SHARE[sub]).astype(np.int64)
    interval = _PLAN_DAYS[plan] * DAY
    first = u.signup[payer] + _TRIAL + rng.integers(0, 2 * HOUR, len(payer))
    limit = np.minimum(u.lifetime_end[payer], end_us)  # they cancel when they churn
    k_lo = np.maximum(0, _ceil_div(start_us - first, interval))
    k_hi = _ceil_div(limit - first, interval)
    owner, within = _expand(np.maximum(k_hi - k_lo, 0))
    jitter = rng.integers(0, 3 * HOUR, len(owner))  # billing runs are not to the second
    t = first[owner] + (k_lo[owner] + within) * interval[owner] + jitter
    events.add(
        payer[owner],
        t,
        "payment",
        platform=u.platform[payer[owner]],
        plan=plan[owner],
        amount=_PRICE[sub[owner], plan[owner]],
    )


def _make_push(rng: np.random.Generator, u: _Users, start_us: int, end_us: int, events: _Events) -> None:
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
        owner, within = _expand(np.where(subscribed, np.maximum(i_hi - i_lo, 0), 0))
        batch = rng.integers(0, 25 * MINUTE, len(owner))  # a send run takes a while
        sent_user.append(target[owner])
        sent_time.append(send_times[i_lo[owner] + within] + batch)
        sent_type.append(np.full(len(owner), kind))

    mondays = epoch_days[_weekday(epoch_days) == 0] * DAY + 9 * HOUR
    scheduled(mondays, 0.7, NOTIFICATIONS.index("digest"))
    promo_days = np.sort(rng.choice(days, size=max(1, days // 18), replace=False))
    scheduled((first_day + promo_days) * DAY + 17 * HOUR, 0.8, NOTIFICATIONS.index("promo"))

    # reminders: rare while active, frequent once a user stopped coming back
    life_end = np.clip(u.lifetime_end[target], lo, hi)
    for a, b, rate in ((lo, life_end, 0.04), (life_end, hi, 0.3)):
        span = np.clip(b - a, 0, None)
        owner, _ = _expand(rng.poisson(rate * span / DAY))
        t = a[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
        t = _at_local_time_of_day(rng, t, u.offset[target[owner]], a[owner], b[owner])
        sent_user.append(target[owner])
        sent_time.append(t)
        sent_type.append(np.full(len(owner), NOTIFICATIONS.index("reminder")))

    user = np.concatenate(sent_user)
    t = np.concatenate(sent_time)
    kind = np.concatenate(sent_type)
    platform = u.push_platform[user]
    events.add(user, t, "push_sent", platform=platform, notification=kind)

    still_active = t < u.lifetime_end[user]
    p_open = _OPEN_RATE[kind] * np.where(still_active, 2.2, 0.35)
    opened = rng.random(len(t)) < p_open
    delay = 5 * SECOND + (rng.exponential(12.0, len(t)) * MINUTE).astype(np.int64)
    events.add(
        user[opened],
        (t + delay)[opened],
        "push_opened",
        platform=platform[opened],
        notification=kind[opened],
    )


# -- Arrow assembly --------------------------------------------------------------------------------


def _strings(vocab: Sequence[str], codes: np.ndarray) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.array(list(vocab), pa.string()).take(indices)


def _floats(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype("datetime64[us]"), pa.timestamp("us"))


def _users_table(u: _Users, user_ids: list[str]) -> pa.Table:
    columns = [
        pa.array(user_ids, pa.string()),
        _timestamps(u.signup),
        _strings(COUNTRIES, u.country),
        _strings(CITIES, u.city),
        _strings(SUBSCRIPTIONS, u.subscription),
        _strings(LICENSES, u.license),
        _strings(ACCOUNTS, u.account),
        _strings(CHANNELS, u.channel),
    ]
    return pa.Table.from_arrays(columns, schema=USERS_SCHEMA)


def _events_table(cols: dict[str, np.ndarray], user_ids: pa.Array, sessions: int) -> pa.Table:
    session_ids = pa.array([f"s{i + 1:07d}" for i in range(sessions)], pa.string())
    session = cols["session"]
    columns = [
        user_ids.take(pa.array(cols["user"])),
        _timestamps(cols["time"]),
        _strings(EVENT_NAMES, cols["name"]),
        pa.array((cols["time"] // DAY).astype(np.int32), pa.date32()),
        _strings(PLATFORMS, cols["platform"]),
        _strings(CAMPAIGNS, cols["campaign"]),
        _strings(URLS, cols["url"]),
        _strings(REFERRERS, cols["referrer"]),
        _strings(FEATURES, cols["feature"]),
        _floats(cols["revenue"]),
        _strings(PLANS, cols["plan"]),
        _floats(cols["amount"]),
        _strings(NOTIFICATIONS, cols["notification"]),
        session_ids.take(pa.array(session.astype(np.int64), mask=session < 0)),
    ]
    return pa.Table.from_arrays(columns, schema=EVENTS_SCHEMA)


def _epoch_us(day: date) -> int:
    return (day - _EPOCH).days * DAY


def generate_tables(
    users: int = 20_000,
    days: int = 180,
    seed: int = 7,
    start: date = DEFAULT_START,
    progress: Progress | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Generate ``(users, events)`` Arrow tables; the same arguments always give the same tables.

    Events lie in ``[start, start + days)`` (naive timestamps meaning UTC), sorted by
    ``event_time``.
    ``progress(done, total)`` is called after each stage.

        >>> users_table, events_table = generate_tables(users=100, days=7, seed=1)
        >>> users_table.column("user_id")[0].as_py()
        'u000001'
    """
    if users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if isinstance(start, datetime):
        start = start.date()
    total = 6

    def step(done: int) -> None:
        if progress is not None:
            progress(done, total)

    rng = np.random.default_rng(seed)
    start_us = _epoch_us(start)
    end_us = start_us + days * DAY
    u = _make_users(rng, users, start_us, end_us)
    step(1)
    events = _Events()
    sessions = _make_sessions(rng, u, start_us, end_us, events)
    step(2)
    _make_payments(rng, u, start_us, end_us, events)
    step(3)
    _make_push(rng, u, start_us, end_us, events)
    step(4)

    cols = events.concatenated()
    inside = (cols["time"] >= start_us) & (cols["time"] < end_us)
    order = np.argsort(cols["time"][inside], kind="stable")
    cols = {k: v[inside][order] for k, v in cols.items()}
    width = max(6, len(str(users)))
    user_ids = [f"u{i + 1:0{width}d}" for i in range(users)]
    users_table = _users_table(u, user_ids)
    step(5)
    events_table = _events_table(
        cols,
        users_table.column("user_id").combine_chunks(),
        sessions,
    )
    step(6)
    return users_table, events_table


def write_duckdb(
    path: str | os.PathLike[str],
    users: int = 20_000,
    days: int = 180,
    seed: int = 7,
    start: date = DEFAULT_START,
    progress: Progress | None = None,
) -> DemoInfo:
    """Generate the demo data and write tables ``users`` and ``events`` to a DuckDB file.

    An existing file is replaced (atomically: the new database is written beside it first).

        >>> info = write_duckdb("demo.duckdb", users=500, days=30)  # doctest: +SKIP
        >>> info.end_date
        datetime.date(2025, 1, 31)
    """
    import duckdb

    target = Path(path)
    total = 7

    def forward(done: int, _total: int) -> None:
        if progress is not None:
            progress(done, total)

    users_table, events_table = generate_tables(users, days, seed, start, forward)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in (scratch, Path(f"{scratch}.wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    try:
        con.register("demo_users_arrow", users_table)
        con.execute("CREATE TABLE users AS SELECT * FROM demo_users_arrow")
        con.unregister("demo_users_arrow")
        con.register("demo_events_arrow", events_table)
        con.execute("CREATE TABLE events AS SELECT * FROM demo_events_arrow")
        con.unregister("demo_events_arrow")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    # a stale write-ahead log next to the target would be replayed into the new file
    Path(f"{target}.wal").unlink(missing_ok=True)
    os.replace(scratch, target)
    forward(total, total)

    times = events_table.column("event_time")
    bounds = pc.min_max(times)
    if isinstance(start, datetime):
        start = start.date()
    return DemoInfo(
        path=target,
        users=users_table.num_rows,
        events=events_table.num_rows,
        first_event_time=bounds["min"].as_py(),
        last_event_time=bounds["max"].as_py(),
        start_date=start,
        end_date=start + timedelta(days=days),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m segwise.demo.generate demo.duckdb [--users N] [--days N] [--seed N]``."""
    parser = argparse.ArgumentParser(description="Write the segwise demo data set to DuckDB.")
    parser.add_argument("path", nargs="?", default="demo.duckdb")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    info = write_duckdb(args.path, args.users, args.days, args.seed, args.start)
    print(
        f"wrote {info.path}: {info.users:,} users, {info.events:,} events "
        f"from {info.first_event_time} to {info.last_event_time} "
        f"in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
