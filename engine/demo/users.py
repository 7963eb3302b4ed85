"""The demo's users: sign-up times, places, plans, platforms, and the rates that drive their activity.

``make_users`` draws every per-user attribute at once; users are returned in sign-up order (their
ids, ``u000001``..., follow it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import (
    ACCOUNT_GIVEN_LICENSE,
    CHANNEL_W,
    CITIES,
    COUNTRIES,
    COUNTRY_MODEL,
    DAY,
    HOUR,
    LICENSE_GIVEN_SUB,
    PLATFORM_W,
    PRE_SIGNUP_DAYS,
    SUB_ACTIVITY,
    SUB_FEATURES,
    SUBSCRIPTION_W,
    WEEKDAY_W,
)
from .sampling import choice, choice_given, local_time_of_day, weekday_of


@dataclass
class Users:
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


def make_users(rng: np.random.Generator, n: int, start_us: int, end_us: int) -> Users:
    first_day = start_us // DAY - PRE_SIGNUP_DAYS
    span = (end_us - start_us) // DAY + PRE_SIGNUP_DAYS
    epoch_days = first_day + np.arange(span)
    growth = np.linspace(0.6, 1.4, span)  # the product grows: later days bring more sign-ups
    day_w = growth * WEEKDAY_W[weekday_of(epoch_days)]
    signup_day = epoch_days[rng.choice(span, size=n, p=day_w / day_w.sum())]

    country = choice(rng, n, [c[1] for c in COUNTRY_MODEL])
    offset = (np.array([c[2] for c in COUNTRY_MODEL]) * HOUR).astype(np.int64)[country]
    city_w = np.zeros((len(COUNTRIES), len(CITIES)))
    col = 0
    for i, (_, _, _, cities) in enumerate(COUNTRY_MODEL):
        for _, weight in cities:
            city_w[i, col] = weight
            col += 1
    city = choice_given(rng, country, city_w)

    signup = signup_day * DAY + local_time_of_day(rng, n) - offset
    lo, hi = first_day * DAY, end_us
    outside = (signup < lo) | (signup >= hi)
    signup = np.where(outside, signup_day * DAY + rng.integers(0, DAY, n), signup)

    subscription = choice(rng, n, SUBSCRIPTION_W)
    license_ = choice_given(rng, subscription, np.array(LICENSE_GIVEN_SUB))
    account = choice_given(rng, license_, np.array(ACCOUNT_GIVEN_LICENSE))
    channel = choice(rng, n, CHANNEL_W)
    platform = choice(rng, n, PLATFORM_W)

    paying = subscription > 0
    tourist = rng.random(n) < np.where(paying, 0.08, 0.38)
    life_days = np.where(tourist, rng.exponential(2.5, n), rng.exponential(np.where(paying, 320.0, 110.0)))
    lifetime_end = signup + ((life_days + 0.02) * DAY).astype(np.int64)

    session_rate = rng.lognormal(np.log(0.16), 0.9, n) * SUB_ACTIVITY[subscription]
    session_rate = np.minimum(session_rate, 6.0)
    page_views = rng.lognormal(np.log(1.6), 0.5, n)
    feature_rate = rng.lognormal(np.log(0.9), 0.6, n) * SUB_FEATURES[subscription]
    purchase_rate = np.minimum(0.02 * rng.lognormal(0.0, 1.1, n), 0.8)

    mobile = platform > 0
    opted_in = rng.random(n) < np.where(mobile, 0.7, 0.15)
    push_platform = np.where(opted_in, np.where(mobile, platform, 1 + rng.integers(0, 2, n)), -1)
    push_end = lifetime_end + (rng.exponential(25.0, n) * DAY).astype(np.int64)

    users = Users(
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
    return Users(**{k: v[order] for k, v in vars(users).items()})
