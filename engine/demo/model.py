"""The demo product's model: its events and tables, vocabularies, and the weights that shape them.

Only data lives here (names, shares, rates, prices); the generator's stages (``users``,
``activity``) draw from it with ``sampling``'s helpers. Timestamps are int64 microseconds since
the Unix epoch, UTC.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

DEFAULT_START = date(2025, 1, 1)
PRE_SIGNUP_DAYS = 60  # users may have signed up this long before the data starts

SECOND = 1_000_000  # timestamps are int64 microseconds since the Unix epoch, UTC
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EPOCH = date(1970, 1, 1)

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
        ("account_id", pa.string()),
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
EVENT_CODES = {name: code for code, name in enumerate(EVENT_NAMES)}

# -- vocabularies and the weights that shape them -------------------------------------------------

# code, share of users, typical UTC offset (hours, for the local time-of-day pattern), cities
COUNTRY_MODEL: tuple[tuple[str, float, float, tuple[tuple[str, float], ...]], ...] = (
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
COUNTRIES = tuple(c[0] for c in COUNTRY_MODEL)
CITIES = tuple(city for c in COUNTRY_MODEL for city, _ in c[3])

SUBSCRIPTIONS = ("free", "basic", "pro", "enterprise")
SUBSCRIPTION_W = (58, 20, 16, 6)
SUB_ACTIVITY = np.array([1.0, 1.25, 1.5, 1.8])  # sessions per day multiplier
SUB_FEATURES = np.array([0.8, 1.0, 1.3, 1.6])  # feature uses per session multiplier

LICENSES = ("individual", "team", "enterprise")
LICENSE_GIVEN_SUB = ((90, 10, 0), (70, 30, 0), (35, 55, 10), (0, 20, 80))

ACCOUNTS = ("personal", "business", "education")
ACCOUNT_SIZE = 3  # users per organisation account (personal users have none: a null account_id)
ACCOUNT_GIVEN_LICENSE = ((62, 23, 15), (5, 80, 15), (0, 90, 10))

CHANNELS = ("organic", "ads", "referral", "partner")
CHANNEL_W = (45, 25, 20, 10)

PLATFORMS = ("web", "ios", "android")
PLATFORM_W = (55, 25, 20)

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
REFERRER_GIVEN_CAMPAIGN = (
    (55, 28, 5, 4, 3, 3, 0, 0, 0, 2, 0),
    (30, 20, 0, 0, 0, 20, 30, 0, 0, 0, 0),
    (75, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0),
    (0, 85, 15, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 20, 50, 30, 0, 0, 0),
    (10, 0, 0, 0, 0, 0, 0, 0, 0, 50, 40),
)

# url, landing-page weight, in-session weight, publication (fraction of the period; None: always)
URL_MODEL: tuple[tuple[str, float, float, float | None], ...] = (
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
URLS = tuple(u[0] for u in URL_MODEL)

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
FEATURE_GIVEN_SUB = (
    (40, 25, 15, 8, 8, 1, 2, 1),
    (30, 25, 15, 12, 10, 2, 4, 2),
    (20, 20, 12, 12, 12, 8, 8, 8),
    (12, 15, 10, 12, 15, 16, 12, 8),
)

PLANS = ("monthly", "yearly")
MONTHLY_SHARE = np.array([0.0, 0.8, 0.65, 0.35])  # by subscription type
PRICE = np.array([[0.0, 0.0], [9.0, 99.0], [29.0, 299.0], [49.0, 499.0]])  # [sub, plan]
PLAN_DAYS = np.array([30, 365])
TRIAL = 14 * DAY

NOTIFICATIONS = ("promo", "reminder", "digest")
OPEN_RATE = np.array([0.05, 0.08, 0.10])  # while the user is still active; far lower after

# Monday .. Sunday: weekdays are busier
WEEKDAY_W = np.array([1.0, 1.04, 1.06, 1.0, 0.9, 0.55, 0.5])
