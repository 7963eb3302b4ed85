"""The demo data generator (its schema is a contract) and the example query gallery."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml

from segwise.demo.generate import EVENT_NAMES, DemoInfo, generate_tables, write_duckdb

START = date(2025, 1, 1)
DAYS = 30
END = START + timedelta(days=DAYS)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

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
# which events may carry each optional column (and, in the second set, must carry it)
ONLY_ON = {
    "campaign": ({"page_view"}, set()),
    "url": ({"page_view"}, {"page_view"}),
    "referrer": ({"page_view"}, set()),
    "feature": ({"feature_used"}, {"feature_used"}),
    "revenue": ({"purchase"}, {"purchase"}),
    "plan": ({"payment"}, {"payment"}),
    "amount": ({"payment"}, {"payment"}),
    "notification_type": ({"push_sent", "push_opened"}, {"push_sent", "push_opened"}),
    "session_id": (
        {"signup", "login", "page_view", "feature_used", "purchase"},
        {"signup", "login", "page_view", "feature_used", "purchase"},
    ),
}


@pytest.fixture(scope="module")
def tables() -> tuple[pa.Table, pa.Table]:
    return generate_tables(users=300, days=DAYS, seed=11, start=START)


@pytest.fixture(scope="module")
def con(tables: tuple[pa.Table, pa.Table]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.register("users", tables[0])
    connection.register("events", tables[1])
    return connection


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# -- determinism and schema ----------------------------------------------------------------------


def test_same_seed_gives_identical_tables(tables: tuple[pa.Table, pa.Table]) -> None:
    users, events = generate_tables(users=300, days=DAYS, seed=11, start=START)
    assert users.equals(tables[0])
    assert events.equals(tables[1])


def test_another_seed_gives_other_data(tables: tuple[pa.Table, pa.Table]) -> None:
    users, events = generate_tables(users=300, days=DAYS, seed=12, start=START)
    assert not events.equals(tables[1])
    assert not users.equals(tables[0])


def test_schemas_are_exactly_the_contract(tables: tuple[pa.Table, pa.Table]) -> None:
    users, events = tables
    assert users.schema.equals(USERS_SCHEMA), users.schema
    assert events.schema.equals(EVENTS_SCHEMA), events.schema


def test_duckdb_file_has_the_contract_types(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    info = write_duckdb(path, users=120, days=14, seed=3)
    assert isinstance(info, DemoInfo)
    with duckdb.connect(str(path), read_only=True) as db:
        types = dict(
            db.execute("SELECT table_name || '.' || column_name, data_type FROM information_schema.columns").fetchall()
        )
        counts = db.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM events),"
            " (SELECT min(event_time) FROM events), (SELECT max(event_time) FROM events)"
        ).fetchone()
    duck = {pa.string(): "VARCHAR", pa.timestamp("us"): "TIMESTAMP", pa.date32(): "DATE"}
    duck[pa.float64()] = "DOUBLE"
    for table, schema in (("users", USERS_SCHEMA), ("events", EVENTS_SCHEMA)):
        for field in schema:
            assert types[f"{table}.{field.name}"] == duck[field.type], (table, field.name)
    assert len(types) == len(USERS_SCHEMA) + len(EVENTS_SCHEMA)
    assert counts == (info.users, info.events, info.first_event_time, info.last_event_time)
    assert info.users == 120
    assert info.start_date == date(2025, 1, 1)
    assert info.end_date == date(2025, 1, 15)
    assert datetime(2025, 1, 1) <= info.first_event_time <= info.last_event_time
    assert info.last_event_time < datetime(2025, 1, 15)


def test_write_duckdb_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "demo.duckdb"
    write_duckdb(path, users=150, days=10, seed=1)
    calls: list[tuple[int, int]] = []
    info = write_duckdb(path, users=40, days=5, seed=2, progress=lambda d, t: calls.append((d, t)))
    with duckdb.connect(str(path), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM users").fetchone() == (40,)
        assert db.execute("SELECT count(*) FROM events").fetchone() == (info.events,)
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.duckdb"]
    assert calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_progress_reports_every_stage() -> None:
    calls: list[tuple[int, int]] = []
    generate_tables(users=20, days=3, progress=lambda done, total: calls.append((done, total)))
    total = calls[0][1]
    assert calls == [(i, total) for i in range(1, total + 1)]


@pytest.mark.parametrize(("users", "days"), [(1, 1), (2, 7)])
def test_tiny_sizes_work(users: int, days: int) -> None:
    users_table, events = generate_tables(users=users, days=days, seed=5, start=date(2024, 2, 28))
    assert users_table.num_rows == users
    if events.num_rows:
        first, last = pc.min_max(events["event_time"]).values()
        assert first.as_py() >= datetime(2024, 2, 28)
        assert last.as_py() < datetime(2024, 2, 28) + timedelta(days=days)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="users"):
        generate_tables(users=0)
    with pytest.raises(ValueError, match="days"):
        generate_tables(days=0)


# -- users ---------------------------------------------------------------------------------------


def test_user_ids_and_properties(con: duckdb.DuckDBPyConnection) -> None:
    ids = [r[0] for r in rows(con, "SELECT user_id FROM users ORDER BY user_id")]
    assert ids == [f"u{i:06d}" for i in range(1, 301)]
    nulls = rows(con, "SELECT count(*) - count(COLUMNS(* EXCLUDE (account_id))) FROM users")
    assert nulls == [(0,) * (len(USERS_SCHEMA) - 1)]
    # organisation accounts: none for personal users; up to 3 users of one license type share one
    personal = rows(
        con, "SELECT bool_and((account_id IS NULL) = (account_type = 'personal')), count(account_id) > 0 FROM users"
    )
    assert personal == [(True, True)]
    accounts = rows(
        con, "SELECT count(*), count(DISTINCT license_type) FROM users WHERE account_id IS NOT NULL GROUP BY account_id"
    )
    assert accounts and all(1 <= n <= 3 and licenses == 1 for n, licenses in accounts)
    assert any(n > 1 for n, _ in accounts)
    values = {
        column: {r[0] for r in rows(con, f"SELECT DISTINCT {column} FROM users")}
        for column in ("subscription_type", "license_type", "account_type", "acquisition_channel")
    }
    assert values["subscription_type"] <= {"free", "basic", "pro", "enterprise"}
    assert values["license_type"] <= {"individual", "team", "enterprise"}
    assert values["account_type"] <= {"personal", "business", "education"}
    assert values["acquisition_channel"] <= {"organic", "ads", "referral", "partner"}
    countries = rows(con, "SELECT country, count(*) FROM users GROUP BY 1 ORDER BY 2 DESC")
    assert countries[0][0] == "US"
    assert all(len(c) == 2 and c.isupper() for c, _ in countries)
    most_common_plan = rows(con, "SELECT mode(subscription_type) FROM users")
    assert most_common_plan == [("free",)]


def test_cities_belong_to_one_country() -> None:
    users, _ = generate_tables(users=3000, days=5, seed=2)
    db = duckdb.connect()
    db.register("users", users)
    per_city = db.execute("SELECT city, count(DISTINCT country) FROM users GROUP BY 1").fetchall()
    assert all(n == 1 for _, n in per_city)
    per_country = db.execute("SELECT count(DISTINCT country), count(DISTINCT city) FROM users")
    countries, cities = per_country.fetchall()[0]
    assert 12 <= countries <= 20
    cities_each = db.execute("SELECT count(DISTINCT city) FROM users GROUP BY country").fetchall()
    assert all(2 <= n <= 4 for (n,) in cities_each)
    assert cities >= 2 * countries


def test_signups_spread_over_the_period_and_before_it(con: duckdb.DuckDBPyConnection) -> None:
    (first, last, before), *_ = rows(
        con,
        "SELECT min(signup_time), max(signup_time), count(*) FILTER (signup_time < DATE '2025-01-01') FROM users",
    )
    assert first >= datetime(2025, 1, 1) - timedelta(days=60)
    assert last < datetime.combine(END, datetime.min.time())
    assert 0 < before < 300


# -- events ----------------------------------------------------------------------------------------


def test_events_lie_in_the_range_sorted_and_dated(tables: tuple[pa.Table, pa.Table]) -> None:
    _, events = tables
    assert events.num_rows > 1000
    times = events["event_time"]
    first, last = pc.min_max(times).values()
    assert first.as_py() >= datetime(2025, 1, 1)
    assert last.as_py() < datetime(2025, 1, 31)
    assert events["event_time"].to_numpy().tolist() == sorted(times.to_numpy().tolist())
    assert pc.all(pc.equal(pc.cast(times, pa.date32()), events["event_date"])).as_py()
    for column in ("user_id", "event_time", "event_name", "event_date", "platform"):
        assert events[column].null_count == 0, column
    assert set(pc.unique(events["event_name"]).to_pylist()) == set(EVENT_NAMES)
    assert set(pc.unique(events["platform"]).to_pylist()) == {"web", "ios", "android"}


def test_every_event_is_after_its_users_signup(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(
        con,
        "SELECT count(*) FROM events e JOIN users u USING (user_id) WHERE e.event_time < u.signup_time",
    ) == [(0,)]
    assert rows(con, "SELECT count(*) FROM events ANTI JOIN users USING (user_id)") == [(0,)]


def test_one_signup_per_user_who_signed_up_in_range(con: duckdb.DuckDBPyConnection) -> None:
    mismatches = rows(
        con,
        """
        SELECT u.user_id, u.signup_time, list(e.event_time)
        FROM users u LEFT JOIN events e ON e.user_id = u.user_id AND e.event_name = 'signup'
        GROUP BY ALL
        HAVING CASE WHEN u.signup_time >= TIMESTAMP '2025-01-01'
                    THEN count(e.event_time) <> 1 OR min(e.event_time) <> u.signup_time
                    ELSE count(e.event_time) <> 0 END
        """,
    )
    assert mismatches == []
    assert rows(con, "SELECT count(*) > 100 FROM events WHERE event_name = 'signup'") == [(True,)]


@pytest.mark.parametrize("column", sorted(ONLY_ON))
def test_columns_are_null_where_they_do_not_apply(con: duckdb.DuckDBPyConnection, column: str) -> None:
    allowed, required = ONLY_ON[column]
    carrying = {r[0] for r in rows(con, f"SELECT DISTINCT event_name FROM events WHERE {column} IS NOT NULL")}
    assert carrying <= allowed
    missing = {r[0] for r in rows(con, f"SELECT DISTINCT event_name FROM events WHERE {column} IS NULL")}
    assert not missing & required


def test_page_view_details(con: duckdb.DuckDBPyConnection) -> None:
    urls = {r[0] for r in rows(con, "SELECT DISTINCT url FROM events WHERE url IS NOT NULL")}
    assert "/" in urls and "/pricing" in urls
    assert all(u.startswith("/") for u in urls)
    campaigns = {r[0] for r in rows(con, "SELECT DISTINCT campaign FROM events WHERE event_name = 'page_view'")}
    assert None in campaigns
    assert campaigns - {None} <= {
        "spring_sale",
        "newsletter",
        "brand_search",
        "retargeting",
        "partner_promo",
    }
    (organic,) = rows(
        con,
        "SELECT avg((campaign IS NULL)::int) FROM events WHERE event_name = 'page_view'",
    )[0]
    assert 0.2 < organic < 0.65
    assert rows(con, "SELECT count(*) > 0 FROM events WHERE referrer IS NULL AND event_name = 'page_view'") == [(True,)]


def test_revenue_is_positive_cents(con: duckdb.DuckDBPyConnection) -> None:
    revenue = [r[0] for r in rows(con, "SELECT revenue FROM events WHERE event_name = 'purchase'")]
    assert revenue
    assert all(r > 0 and round(r, 2) == r for r in revenue)


def test_payments_follow_plan_and_subscription(con: duckdb.DuckDBPyConnection) -> None:
    payments = rows(
        con,
        "SELECT e.plan, e.amount, u.subscription_type FROM events e JOIN users u USING (user_id)"
        " WHERE event_name = 'payment'",
    )
    assert payments
    assert {p for p, _, _ in payments} <= {"monthly", "yearly"}
    assert all(s != "free" for _, _, s in payments)
    assert all(9 <= a <= 49 for p, a, _ in payments if p == "monthly")
    assert all(99 <= a <= 499 for p, a, _ in payments if p == "yearly")
    assert (
        rows(
            con,
            "SELECT count(DISTINCT plan) FROM events WHERE event_name = 'payment' GROUP BY user_id"
            " HAVING count(DISTINCT plan) > 1",
        )
        == []
    )


def test_monthly_payments_come_every_thirty_days() -> None:
    _, events = generate_tables(users=400, days=120, seed=4)
    db = duckdb.connect()
    db.register("events", events)
    gaps = db.execute(
        """
        SELECT plan,
               epoch(event_time - lag(event_time) OVER (PARTITION BY user_id ORDER BY event_time))
               / 86400 AS gap
        FROM events WHERE event_name = 'payment'
        QUALIFY gap IS NOT NULL
        """
    ).fetchall()
    monthly = [g for p, g in gaps if p == "monthly"]
    assert len(monthly) > 20
    assert all(29.8 < g < 30.2 for g in monthly)
    assert all(p == "monthly" for p, _ in gaps)  # a yearly plan never pays twice in 120 days


def test_push_opens_follow_sends(con: duckdb.DuckDBPyConnection) -> None:
    bad = rows(
        con,
        """
        SELECT o.user_id, o.event_time FROM events o
        WHERE o.event_name = 'push_opened' AND NOT EXISTS (
            SELECT 1 FROM events s
            WHERE s.event_name = 'push_sent' AND s.user_id = o.user_id
              AND s.notification_type = o.notification_type
              AND s.event_time < o.event_time)
        """,
    )
    assert bad == []
    sent, opened = rows(
        con,
        "SELECT count(*) FILTER (event_name = 'push_sent'), count(*) FILTER (event_name = 'push_opened') FROM events",
    )[0]
    assert 0 < opened < sent
    kinds = rows(con, "SELECT DISTINCT notification_type FROM events WHERE notification_type IS NOT NULL")
    assert {k for (k,) in kinds} <= {"promo", "reminder", "digest"}


def test_sessions_belong_to_one_user(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        rows(
            con,
            "SELECT session_id FROM events WHERE session_id IS NOT NULL GROUP BY 1 HAVING count(DISTINCT user_id) > 1",
        )
        == []
    )


def test_activity_is_heavy_tailed_and_busier_on_weekdays() -> None:
    _, events = generate_tables(users=2000, days=56, seed=9)
    db = duckdb.connect()
    db.register("events", events)
    top, median = db.execute(
        "SELECT max(n), median(n) FROM (SELECT count(*) AS n FROM events GROUP BY user_id)"
    ).fetchall()[0]
    assert top > 8 * median
    weekday, weekend = db.execute(
        "SELECT count(*) FILTER (isodow(event_time) <= 5) / 5,"
        " count(*) FILTER (isodow(event_time) > 5) / 2 FROM events WHERE event_name = 'login'"
    ).fetchall()[0]
    assert weekday > 1.3 * weekend


@pytest.mark.slow
def test_default_scale_is_one_to_two_million_events() -> None:
    users, events = generate_tables()
    assert users.num_rows == 20_000
    assert 1_000_000 <= events.num_rows <= 2_000_000


# -- the example gallery ---------------------------------------------------------------------------

QUERY_KEYS = {
    "series",
    "date_range",
    "time_grain",
    "breakdown",
    "breakdown_limit",
    "formulas",
    "formula",
    "segment",
    "compare",
    "lifecycle",
    "stickiness",
    "cumulative",
    "unit",
}
ANALYSES = ("lifecycle", "stickiness")  # one event of their own (with filters) instead of series
ANALYSIS_KEYS = {"event", "where"}
SERIES_KEYS = {"event", "where", "measure", "label", "occurrence", "occurrence_scope"}
CONDITION_KEYS = {"property", "op", "value", "values"}
OPERATORS = {
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "not_contains",
    "starts_with",
    "is_null",
    "is_not_null",
}
GRAINS = {"hour", "day", "week", "month", "quarter", "year", "total"}
PROPERTIES = {f.name for f in EVENTS_SCHEMA} | {f.name for f in USERS_SCHEMA} | {"event"}
QUERY_FILES = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "segwise.yaml")


def test_the_gallery_answers_the_product_page_questions() -> None:
    names = {p.stem for p in QUERY_FILES}
    expected = {
        "daily_active_users",
        "weekly_active_users",
        "monthly_active_users",
        "total_revenue",
        "revenue_over_time",
        "unique_visitors",
        "total_signups",
        "signups_over_time",
        "signups_per_country",
        "push_notifications_per_day",
        "monthly_payment_users",
        "revenue_per_account_type",
    }
    assert expected <= names
    assert len(QUERY_FILES) >= 20


def _check_measure(measure: str) -> None:
    name, _, prop = measure.partition(":")
    if name in ("events", "unique_users", "events_per_user", "dau", "wau", "mau"):
        assert not prop
    elif name in ("sum", "avg", "min", "max", "median") or (name[0] == "p" and name[1:].isdigit()):
        assert prop in PROPERTIES, measure
    else:
        assert name == "active_users" and prop.endswith("d"), measure


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_example_query_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# ") and len(first) > 5, "first line: '# <question>'"
    query = yaml.safe_load(text)
    assert set(query) <= QUERY_KEYS
    analyses = [key for key in ANALYSES if key in query]
    assert len(analyses) + bool(query.get("series")) == 1, "one question: series or one analysis"
    for key in analyses:
        assert set(query[key]) <= ANALYSIS_KEYS
    for series in query.get("series", []) + [query[key] for key in analyses]:
        assert set(series) <= SERIES_KEYS
        assert series["event"] == "any" or series["event"] in EVENT_NAMES
        _check_measure(series.get("measure", "events"))
        for condition in series.get("where", []):
            assert set(condition) <= CONDITION_KEYS
            assert condition["op"] in OPERATORS
            assert condition["property"] in PROPERTIES
    assert query.get("time_grain", "day") in GRAINS
    project = yaml.safe_load((EXAMPLES / "segwise.yaml").read_text(encoding="utf-8"))
    assert set(query.get("breakdown", [])) <= PROPERTIES | set(project.get("categories", {}))
    assert query.get("unit", "user") in {"user", *project.get("units", {})}
    cohorts = query.get("segment", {}).get("cohort", [])
    assert set([cohorts] if isinstance(cohorts, str) else cohorts) <= set(project.get("cohorts", {}))
    date_range = query["date_range"]
    if "last" in date_range:
        assert set(date_range) == {"last"}
    else:
        assert set(date_range) == {"from", "to"}
        # inside the demo data: 2025-01-01 + 180 days
        assert date(2025, 1, 1) <= date_range["from"] < date_range["to"] <= date(2025, 6, 30)


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_example_query_validates(path: Path) -> None:
    query_module = pytest.importorskip("segwise.query")
    query_module.Query.load(path)


def test_example_project_file() -> None:
    path = EXAMPLES / "segwise.yaml"
    project = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert project["warehouse"] == "duckdb:///demo.duckdb"
    allowed = {"warehouse", "timezone", "week_start", "event_tables", "user_tables", "units", "cohorts", "categories"}
    assert set(project) <= allowed
    (table,) = project["event_tables"]
    assert table == {
        "table": "events",
        "user_id": "user_id",
        "event_time": "event_time",
        "event_name": "event_name",
        "partition": {"column": "event_date", "granularity": "day", "format": "date"},
    }
    assert project["user_tables"] == [{"table": "users", "user_id": "user_id"}]
