"""Fixtures for the shared segmentation suite: one backend per live engine, four datasets.

``backend`` is parametrized over ``tests.backends.BACKENDS``, so every test that uses a dataset
runs once per engine. Each dataset knows its Arrow tables (for the oracle) and its warehouse URL
(for the engine); ``dataset.check(query, ...)`` runs both and compares the answers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import segwise
from tests.backends import BACKENDS
from tests.oracle import CANONICAL, is_count, merge_event_tables, oracle, parse_measure, query_formulas

SAMPLES = Path("/work/shared/datasets/mitzu-samples")


# -- data ---------------------------------------------------------------------------------------------


def generated_tables() -> tuple[pa.Table, pa.Table]:
    """The demo generator's data, with a few changes that give the suite more to check.

    Users whose number ends in 7 are dropped from the users table (their user properties are null),
    and the users table gets a ``platform`` column (a name the events table also has, for
    ``user.platform`` / ``event.platform``) with some nulls.
    """
    from segwise.demo.generate import generate_tables

    users, events = generate_tables(users=400, days=60, seed=3)
    keep = pa.array([not uid.endswith("7") for uid in users.column("user_id").to_pylist()])
    users = users.filter(keep)
    if "platform" not in users.column_names:
        choices = ["web", "ios", None]
        users = users.append_column(
            "platform", pa.array([choices[i % 3] for i in range(users.num_rows)], type=pa.string())
        )
    return users, events


def read_simple() -> pa.Table:
    """simple.csv as typed Arrow: empty strings stay '' (not null), 19-digit ids stay int64."""
    types = {
        "event_time": pa.timestamp("us"),
        "event_type": pa.string(),
        "product-id": pa.string(),
        "category_id": pa.int64(),
        "category_code": pa.string(),
        "brand": pa.string(),
        "price": pa.float64(),
        "user_id": pa.int64(),
        "user_session": pa.string(),
    }
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pacsv.read_csv(SAMPLES / "simple.csv", convert_options=convert)


def simple_users(events: pa.Table) -> pa.Table:
    """A small users table for simple.csv keyed by its int64 user ids.

    Users whose id is divisible by 7 have no row; ``tier`` cycles gold/silver/null; ``score`` is
    an integer, ``vip`` a boolean.
    """
    ids = sorted(set(events.column("user_id").to_pylist()))
    ids = [uid for uid in ids if uid % 7 != 0]
    tiers = ["gold", "silver", None]
    return pa.table(
        {
            "user_id": pa.array(ids, type=pa.int64()),
            "tier": pa.array([tiers[uid % 3] for uid in ids], type=pa.string()),
            "score": pa.array([uid % 100 for uid in ids], type=pa.int64()),
            "vip": pa.array([uid % 2 == 0 for uid in ids], type=pa.bool_()),
        }
    )


def read_subscriptions() -> pa.Table:
    types = {"event_time": pa.timestamp("us"), "user_id": pa.string(), "event_type": pa.string()}
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pacsv.read_csv(SAMPLES / "subscriptions.csv", convert_options=convert)


EDGE_LABELS = ["a_b", "axb", "a%b", "100%", "O'Brien", "back\\slash", "Other", "Z", "z", "é", "Ünï", "", None]


# floats whose shortest round-trip text needs 16-17 digits, exponents, or ends in .0; and null
EDGE_FLOATS = [1e16, 1e-05, 123456789.123, 0.30000000000000004, 1.2345678901234568e16, 1e15, -2.5, None, 0.1]
EDGE_MICROS = [0, 500000, 123456, 1]


def edge_tables(aware: bool = False) -> tuple[pa.Table, pa.Table]:
    """A small hand-made dataset of awkward values (June 2025, UTC).

    - ``label``: LIKE wildcards (``_`` ``%``), a quote, a backslash, a real value ``Other``, case and
      non-ASCII letters whose code-point order differs from dictionary order, '' and null;
    - null user ids on every 11th event; user ``u6`` has no users row;
    - ``n`` (int, nulls), ``x`` (float, nulls), ``flag`` (bool, nulls), ``day`` (date), ``big`` (floats
      that print awkwardly), ``seen`` (a naive timestamp, with and without fractions of a second);
    - events exactly at 2025-06-01 00:00 and 2025-06-11 00:00 (the bounds of the usual range), and
      events with the label ``early`` only before it (look-back for rolling measures);
    - events around New York's 2025 daylight-saving changes (label ``dst``).

    ``aware=True`` stores ``event_time`` as a time-zone-aware column (same instants).
    """
    from datetime import date, timedelta

    start = datetime(2025, 6, 1)
    rows = []
    for i in range(80):
        rows.append(
            {
                "user_id": None if i % 11 == 0 else f"u{i % 7}",
                "event_time": start + timedelta(hours=4 * i, minutes=(i % 3) * 17),
                "event_name": ["open", "click", "buy"][i % 3],
                "label": EDGE_LABELS[i % len(EDGE_LABELS)],
                "n": None if i % 4 == 0 else i % 5,
                "x": None if i % 6 == 0 else i * 1.25,
                "flag": [True, False, None, True][i % 4],
                "day": date(2025, 6, 1) + timedelta(days=i % 9),
                "big": EDGE_FLOATS[i % len(EDGE_FLOATS)],
                "seen": datetime(2025, 5, 1, i % 24, i % 60, i % 7) + timedelta(microseconds=EDGE_MICROS[i % 4]),
            }
        )
    for i, when in enumerate([datetime(2025, 5, 29, 10), datetime(2025, 5, 30, 23, 59), datetime(2025, 6, 11)]):
        rows.append(
            {
                "user_id": f"u{i}",
                "event_time": when,
                "event_name": "open",
                "label": "early",
                "n": 1,
                "x": 1.0,
                "flag": True,
                "day": when.date(),
            }
        )
    # New York daylight saving in 2025: 01:30 EDT and 01:30 EST on 2025-11-02 (the repeated hour), and
    # the last minute before and the first after the jump on 2025-03-09
    for i, when in enumerate(
        [
            datetime(2025, 11, 2, 5, 30),
            datetime(2025, 11, 2, 6, 30),
            datetime(2025, 3, 9, 6, 59),
            datetime(2025, 3, 9, 7),
        ]
    ):
        rows.append(
            {
                "user_id": f"u{i}",
                "event_time": when,
                "event_name": "click",
                "label": "dst",
                "n": i,
                "x": float(i),
                "flag": False,
                "day": when.date(),
            }
        )
    events = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("user_id", pa.string()),
                ("event_time", pa.timestamp("us")),
                ("event_name", pa.string()),
                ("label", pa.string()),
                ("n", pa.int64()),
                ("x", pa.float64()),
                ("flag", pa.bool_()),
                ("day", pa.date32()),
                ("big", pa.float64()),
                ("seen", pa.timestamp("us")),
            ]
        ),
    )
    if aware:
        index = events.schema.get_field_index("event_time")
        events = events.set_column(index, "event_time", events.column("event_time").cast(pa.timestamp("us", tz="UTC")))
    users = pa.table(
        {
            "user_id": [f"u{i}" for i in range(6)],
            "cohort": ["Other", "a_b", None, "é", "Z", "z"],
        }
    )
    return events, users


# -- comparing answers ----------------------------------------------------------------------------------


def expected_value_type(query: dict[str, Any]) -> pa.DataType:
    """int64 when every series counts and there are no formulas, else float64."""
    counts = all(is_count(parse_measure(s.get("measure", "events"))) for s in query["series"])
    return pa.int64() if counts and not query_formulas(query) else pa.float64()


def has_frequency(query: dict[str, Any]) -> bool:
    return any(parse_measure(s.get("measure", "events"))[0] == "frequency" for s in query["series"])


def _same_value(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, int) and not isinstance(want, bool):
        return isinstance(got, int) and got == want
    return isinstance(got, float) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


def assert_same(result: pa.Table, expected: list[dict[str, Any]], query: dict[str, Any], timezone: str) -> None:
    """The engine's table equals the oracle's rows: schema, order, values (floats to 1e-9)."""
    breakdown = query.get("breakdown") or []
    if isinstance(breakdown, str):
        breakdown = [breakdown]
    frequency = ["frequency"] if has_frequency(query) else []
    names = ["bucket", *breakdown, *frequency, "series", "value"]
    assert result.column_names == names, f"columns {result.column_names} != {names}"
    schema = result.schema
    if frequency:
        assert schema.field("frequency").type == pa.int64(), schema.field("frequency").type
    assert schema.field("bucket").type == pa.timestamp("us", tz=timezone), schema.field("bucket").type
    for name in breakdown:
        assert schema.field(name).type == pa.string(), f"breakdown column {name}: {schema.field(name).type}"
    assert schema.field("series").type == pa.string(), schema.field("series").type
    assert schema.field("value").type == expected_value_type(query), schema.field("value").type

    got = result.to_pylist()
    problems = []
    if len(got) != len(expected):
        problems.append(f"{len(got)} rows from the engine, {len(expected)} from the oracle")
    for i, (g, w) in enumerate(zip(got, expected, strict=False)):
        same = (
            g["bucket"].astimezone(UTC) == w["bucket"].astimezone(UTC)
            and all(g[n] == w[n] for n in breakdown + frequency)
            and g["series"] == w["series"]
            and _same_value(g["value"], w["value"])
        )
        if not same:
            problems.append(f"row {i}: engine {_show(g)} != oracle {_show(w)}")
        if len(problems) >= 12:
            break
    if len(got) != len(expected):
        engine_keys = {_key(r, breakdown + frequency) for r in got}
        oracle_keys = {_key(r, breakdown + frequency) for r in expected}
        only_engine = sorted(engine_keys - oracle_keys, key=repr)[:5]
        only_oracle = sorted(oracle_keys - engine_keys, key=repr)[:5]
        problems.append(f"only in the engine: {only_engine}; only in the oracle: {only_oracle}")
    assert not problems, "\n".join(problems)


def _key(row: dict[str, Any], breakdown: list[str]) -> tuple[Any, ...]:
    return (row["bucket"].isoformat(), *(row[n] for n in breakdown), row["series"])


def _show(row: dict[str, Any]) -> str:
    parts = [f"{k}={v.isoformat() if isinstance(v, datetime) else v!r}" for k, v in row.items()]
    return "{" + ", ".join(parts) + "}"


def declared_gaps(project: segwise.Project, query: dict[str, Any]) -> list[str]:
    """Capabilities the query needs that the project's adapter declares it does not have."""
    capabilities = project.adapter().flavor.capabilities
    measures = [str(s.get("measure", "events")) for s in query.get("series", [])]
    needs_percentile = any(
        m.split(":")[0] in ("median", "user_median") or re.match(r"^(user_)?p\d+$", m.split(":")[0]) for m in measures
    )
    gaps = []
    if project.timezone != "UTC" and not capabilities.timezones:
        gaps.append("time zones")
    if needs_percentile and not capabilities.exact_percentiles:
        gaps.append("exact percentiles")
    return gaps


def skip_declared_gaps(project: segwise.Project, query: dict[str, Any], backend: str, now: datetime | None) -> None:
    """When the project's adapter declares it lacks a capability ``query`` needs, assert that it
    refuses the query cleanly (``UnsupportedError``) and skip the test with the reason."""
    missing = declared_gaps(project, query)
    if missing:
        with pytest.raises(segwise.UnsupportedError):
            segwise.run(query, project, now=now)
        pytest.skip(f"{backend} declares no support for {', '.join(missing)}")


# -- datasets ------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """One dataset loaded into one backend."""

    name: str
    backend: str
    url: str
    events: pa.Table
    users: pa.Table | None
    event_name: str
    _rows: list[dict[str, Any]] = field(default_factory=list)
    _user_rows: list[dict[str, Any]] | None = None
    _projects: dict[tuple[str, str, str], segwise.Project] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rows = self.events.to_pylist()
        self._user_rows = None if self.users is None else self.users.to_pylist()

    def project(self, timezone: str = "UTC", week_start: str = "monday", **declared: Any) -> segwise.Project:
        """The dataset's project (one per options, closed with the dataset); ``declared``: more
        project settings (``units``, ``cohorts``, ``categories``)."""
        key = (timezone, week_start, repr(sorted(declared.items())))
        if key not in self._projects:
            self._projects[key] = segwise.Project(
                warehouse=self.url,
                timezone=timezone,
                week_start=week_start,
                event_tables=self.event_specs(),
                user_tables=[{"table": "users"}] if self.users is not None else [],
                **declared,
            )
        return self._projects[key]

    def event_specs(self) -> list[dict[str, Any]]:
        return [{"table": "events", "event_name": self.event_name}]

    def expected(
        self, query: dict[str, Any], timezone: str = "UTC", week_start: str = "monday", now: datetime | None = None
    ) -> list[dict[str, Any]]:
        return oracle(
            query,
            self._rows,
            self._user_rows,
            event_name_col=self.event_name,
            timezone=timezone,
            week_start=week_start,
            now=now,
        )

    def check(
        self, query: dict[str, Any], timezone: str = "UTC", week_start: str = "monday", now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Run ``query`` on the engine and the oracle, assert they agree, return the oracle's rows.

        An engine whose adapter *declares* it lacks a capability the query needs (time zones,
        exact percentiles: ``Capabilities``) must refuse it cleanly with ``UnsupportedError``; the
        refusal is asserted and the test is then skipped with the reason. An engine that declares
        the capability must answer, so a gap that closes (or opens) is noticed.
        """
        project = self.project(timezone, week_start)
        skip_declared_gaps(project, query, self.backend, now)
        result = segwise.run(query, project, now=now)
        expected = self.expected(query, timezone, week_start, now)
        assert_same(result, expected, query, timezone)
        return expected

    def close(self) -> None:
        for project in self._projects.values():
            project.close()


@pytest.fixture(scope="session", params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a live engine in ``BACKENDS``."""
    return request.param


def _load(
    name: str, backend: str, tmp_path_factory: pytest.TempPathFactory, tables: dict[str, pa.Table], event_name: str
) -> Dataset:
    directory = tmp_path_factory.mktemp(f"{backend}-{name}")
    url = BACKENDS[backend].load(tables, directory, name)
    return Dataset(name, backend, url, tables["events"], tables.get("users"), event_name)


@pytest.fixture(scope="session")
def generated(backend: str, tmp_path_factory: pytest.TempPathFactory):
    users, events = generated_tables()
    dataset = _load("generated", backend, tmp_path_factory, {"events": events, "users": users}, "event_name")
    yield dataset
    dataset.close()


@pytest.fixture(scope="session")
def simple(backend: str, tmp_path_factory: pytest.TempPathFactory):
    events = read_simple()
    tables = {"events": events, "users": simple_users(events)}
    dataset = _load("simple", backend, tmp_path_factory, tables, "event_type")
    yield dataset
    dataset.close()


@pytest.fixture(scope="session", params=["naive", "aware"])
def edge(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """The awkward-values dataset, with ``event_time`` naive (UTC) or time-zone-aware."""
    events, users = edge_tables(aware=request.param == "aware")
    name = f"edge_{request.param}"
    dataset = _load(name, backend, tmp_path_factory, {"events": events, "users": users}, "event_name")
    yield dataset
    dataset.close()


@pytest.fixture(scope="session")
def subscriptions(backend: str, tmp_path_factory: pytest.TempPathFactory):
    dataset = _load("subscriptions", backend, tmp_path_factory, {"events": read_subscriptions()}, "event_type")
    yield dataset
    dataset.close()


# -- several event tables (the advanced suite) -------------------------------------------------------

MULTI_TABLE_SPECS: dict[str, dict[str, Any]] = {
    "events": {"table": "events", "user_id": "user_id", "event_time": "event_time", "event_name": "event_name"},
    "notifications": {"table": "notifications", "user_id": "user_id", "event_time": "sent_at", "event_name": "kind"},
    "signups": {"table": "signups", "user_id": "user_id", "event_time": "event_time", "event_name_value": "signup"},
    "purchases": {"table": "purchases", "user_id": "buyer", "event_time": "ts", "event_name_value": "purchase"},
}


def split_event_tables(events: pa.Table) -> dict[str, pa.Table]:
    """The generated events spread over four tables, as warehouses often hold them.

    - ``events`` (event-name column ``event_name``): login, page_view, feature_used, payment; no
      ``revenue`` or ``notification_type`` columns;
    - ``notifications`` (event-name column ``kind``, time ``sent_at``): push_sent, push_opened;
    - ``signups`` (every row is ``signup``): a time-zone-aware ``event_time``;
    - ``purchases`` (every row is ``purchase``, user ``buyer``, time ``ts``): the only ``revenue``.

    Listed in that order, so ``revenue`` is null in every table but the last, and ``event_date``
    exists only in the first and third.
    """
    import pyarrow.compute as pc

    def only(*names: str) -> pa.Table:
        return events.filter(pc.is_in(events.column("event_name"), pa.array(names)))

    rest = only("login", "page_view", "feature_used", "payment").drop_columns(["revenue", "notification_type"])
    notifications = (
        only("push_sent", "push_opened")
        .select(["user_id", "event_time", "event_name", "platform", "notification_type"])
        .rename_columns(["user_id", "sent_at", "kind", "platform", "notification_type"])
    )
    signups = only("signup").select(["user_id", "event_time", "platform", "session_id", "event_date"])
    index = signups.schema.get_field_index("event_time")
    signups = signups.set_column(index, "event_time", signups.column("event_time").cast(pa.timestamp("us", tz="UTC")))
    purchases = (
        only("purchase")
        .select(["user_id", "event_time", "platform", "revenue", "session_id"])
        .rename_columns(["buyer", "ts", "platform", "revenue", "session_id"])
    )
    return {"events": rest, "notifications": notifications, "signups": signups, "purchases": purchases}


@dataclass
class MultiTableDataset(Dataset):
    """A dataset whose events are spread over several tables (``specs``, in project order)."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    specs: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rows = merge_event_tables([(spec, self.tables[spec["table"]]) for spec in self.specs])
        self._user_rows = None if self.users is None else self.users.to_pylist()

    def event_specs(self) -> list[dict[str, Any]]:
        return self.specs

    def expected(
        self, query: dict[str, Any], timezone: str = "UTC", week_start: str = "monday", now: datetime | None = None
    ) -> list[dict[str, Any]]:
        return oracle(
            query, self._rows, self._user_rows, **CANONICAL, timezone=timezone, week_start=week_start, now=now
        )


@pytest.fixture(scope="session")
def multi(backend: str, tmp_path_factory: pytest.TempPathFactory):
    """The generated data in four event tables (``split_event_tables``) plus the users table."""
    users, events = generated_tables()
    tables = split_event_tables(events)
    directory = tmp_path_factory.mktemp(f"{backend}-multi")
    url = BACKENDS[backend].load({**tables, "users": users}, directory, "multi")
    specs = list(MULTI_TABLE_SPECS.values())
    dataset = MultiTableDataset("multi", backend, url, events, users, "event_name", tables=tables, specs=specs)
    yield dataset
    dataset.close()


def partitioned_project(dataset: Dataset, **extra: Any) -> segwise.Project:
    """The dataset's events and users with ``event_date`` declared as a day/date partition."""
    return segwise.Project(
        warehouse=dataset.url,
        event_tables=[
            {
                "table": "events",
                "event_name": "event_name",
                "partition": {"column": "event_date", "granularity": "day", "format": "date"},
            }
        ],
        user_tables=[{"table": "users"}],
        **extra,
    )
