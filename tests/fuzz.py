"""Differential fuzzing: random valid queries, every live engine against the reference oracle.

Hypothesis generates queries over the demo generator's data (``generate_tables(users=200,
days=30, seed=5)``; users whose id ends in 7 have no users row, so user properties have nulls)
loaded into each engine of ``tests.backends.BACKENDS``:

* measures: events, unique_users, events_per_user, sum/avg/min/max/median/pNN of numeric
  properties, dau/wau/active_users:Nd;
* filters with every operator on string, numeric, date and null-containing properties (event and
  user properties), values taken from the data plus values that do not occur;
* events: a name, ``any``, combined events ``{any_of: [...]}`` with per-member filters;
* time grains hour ... year and total; absolute and relative date ranges; breakdowns (event,
  event and user properties) with and without ``breakdown_limit``;
* time zones UTC and non-UTC, weeks starting Monday or Sunday.

Answers must equal the oracle's row for row (floats to rel 1e-9 / abs 1e-9, ``tests.conftest.
assert_same``). An engine may refuse a query with ``UnsupportedError`` only for a gap it declares
in its capabilities (SQLite: non-UTC time zones, exact percentiles); any other refusal fails.

Formulas are fuzzed too. Segments, first/last occurrence, per-user measures and compare are covered by
fixed-seed random queries in ``tests/test_advanced_random.py`` rather than here.

The bounded run is ``tests/test_fuzz.py`` (40 examples per engine, derandomized). A longer run:

    python -m tests.fuzz --examples 2000                 # every engine in BACKENDS
    python -m tests.fuzz --examples 500 --engines duckdb,postgresql --random   # new queries, not the fixed seed
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import segwise
from tests.backends import BACKENDS
from tests.conftest import Dataset, assert_same

NOW = datetime(2025, 1, 27, 15, 30)
DATA_START = datetime(2025, 1, 1)
EVENTS = ["page_view", "login", "feature_used", "push_sent", "signup", "purchase", "payment", "push_opened"]
TIMEZONES = ["UTC", "UTC", "America/New_York", "Asia/Kolkata"]


def fuzz_tables() -> dict[str, pa.Table]:
    from segwise.demo.generate import generate_tables

    users, events = generate_tables(users=200, days=30, seed=5)
    keep = pa.array([not uid.endswith("7") for uid in users.column("user_id").to_pylist()])
    return {"events": events, "users": users.filter(keep)}


# -- the strategy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """What the data holds, for drawing properties and values that mean something."""

    strings: dict[str, list[str]]  # property -> values occurring (some properties have nulls)
    numbers: dict[str, list[float]]
    dates: dict[str, list[date]]


def vocabulary(tables: dict[str, pa.Table]) -> Vocabulary:
    events, users = tables["events"], tables["users"]

    def distinct(table: pa.Table, column: str) -> list[Any]:
        return sorted({v for v in table.column(column).to_pylist() if v is not None})

    strings = {name: distinct(events, name) for name in ("platform", "campaign", "feature", "plan", "referrer")}
    strings.update({name: distinct(users, name) for name in ("country", "subscription_type", "account_type")})
    numbers = {name: distinct(events, name) for name in ("revenue", "amount")}
    return Vocabulary(strings, numbers, {"event_date": distinct(events, "event_date")})


def _value(kind: str, vocab: Vocabulary, prop: str) -> st.SearchStrategy[Any]:
    if kind == "string":
        return st.one_of(st.sampled_from(vocab.strings[prop]), st.sampled_from(["zz", "", "Web", "a'b"]))
    if kind == "number":
        known = vocab.numbers[prop]
        return st.one_of(st.sampled_from(known), st.integers(-5, 500), st.floats(0, 300, allow_nan=False).map(round))
    return st.one_of(st.sampled_from(vocab.dates[prop]), st.dates(date(2024, 12, 25), date(2025, 2, 5)))


@st.composite
def condition(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "string", "number", "date"]))
    pool = {"string": vocab.strings, "number": vocab.numbers, "date": vocab.dates}[kind]
    prop = draw(st.sampled_from(sorted(pool)))
    ops = ["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_null", "is_not_null"]
    if kind == "string":
        ops += ["contains", "not_contains", "starts_with"]
    op = draw(st.sampled_from(ops))
    cond: dict[str, Any] = {"property": prop, "op": op}
    value = _value(kind, vocab, prop)
    if op in ("in", "not_in"):
        cond["values"] = draw(st.lists(value, min_size=1, max_size=3))
    elif op == "between":
        low, high = draw(value), draw(value)
        cond["values"] = sorted([low, high])
    elif op in ("contains", "not_contains", "starts_with"):
        text = draw(st.sampled_from(vocab.strings[prop]))
        start = draw(st.integers(0, max(0, len(text) - 1)))
        cond["value"] = text[start : start + draw(st.integers(1, 3))] or "x"
    elif op not in ("is_null", "is_not_null"):
        cond["value"] = draw(value)
    if kind == "date" and "value" in cond:
        cond["value"] = cond["value"].isoformat()
    if kind == "date" and "values" in cond:
        cond["values"] = [v.isoformat() for v in cond["values"]]
    return cond


@st.composite
def event(draw: st.DrawFn, vocab: Vocabulary) -> Any:
    choice = draw(st.integers(0, 9))
    if choice < 6:
        return draw(st.sampled_from(EVENTS))
    if choice < 8:
        return "any"
    members = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from([*EVENTS, "any"]))
        where = draw(st.lists(condition(vocab), max_size=1))
        members.append({"event": name, "where": where} if where else name)
    return {"any_of": members}


@st.composite
def measure(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["events", "unique_users", "events_per_user", "agg", "agg", "pct", "dau", "wau", "active"])
    )
    prop = draw(st.sampled_from(["revenue", "amount"]))
    if kind == "agg":
        return f"{draw(st.sampled_from(['sum', 'avg', 'min', 'max']))}:{prop}"
    if kind == "pct":
        return draw(st.sampled_from(["median", "p10", "p25", "p75", "p90", "p99"])) + f":{prop}"
    if kind == "active":
        return f"active_users:{draw(st.integers(1, 10))}d"
    return kind


@st.composite
def query(draw: st.DrawFn, vocab: Vocabulary) -> tuple[dict[str, Any], str, str]:
    """``(query, timezone, week_start)``."""
    series = []
    for _ in range(draw(st.integers(1, 3))):
        s: dict[str, Any] = {"event": draw(event(vocab)), "measure": draw(measure())}
        where = draw(st.lists(condition(vocab), max_size=2))
        if where:
            s["where"] = where
        series.append(s)
    grain = draw(st.sampled_from(["hour", "day", "day", "week", "month", "quarter", "year", "total"]))
    q: dict[str, Any] = {"series": series, "time_grain": grain}
    if draw(st.integers(0, 3)) == 0:
        q["date_range"] = {
            "last": draw(st.sampled_from(["36h", "2d"] if grain == "hour" else ["3d", "10d", "2w", "1m"]))
        }
    else:
        start = DATA_START + timedelta(hours=draw(st.integers(-72, 29 * 24)))
        if draw(st.booleans()):
            start = start.replace(hour=0)
        hours = draw(st.integers(1, 60)) if grain == "hour" else 24 * draw(st.integers(1, 35))
        q["date_range"] = {"from": start.isoformat(), "to": (start + timedelta(hours=hours)).isoformat()}
    breakdown = draw(
        st.lists(
            st.sampled_from(
                ["platform", "country", "event", "campaign", "plan", "account_type", "amount", "event_date"]
            ),
            max_size=2,
            unique=True,
        )
    )
    if breakdown:
        q["breakdown"] = breakdown
        if draw(st.booleans()):
            q["breakdown_limit"] = draw(st.integers(1, 5))
    if draw(st.integers(0, 2)) == 0:
        labels = [chr(ord("A") + i) for i in range(len(series))]
        q["formulas"] = [
            {"label": f"F{i}", "expression": draw(formula(labels))} for i in range(draw(st.integers(1, 2)))
        ]
    return q, draw(st.sampled_from(TIMEZONES)), draw(st.sampled_from(["monday", "sunday"]))


@st.composite
def formula(draw: st.DrawFn, labels: list[str], depth: int = 0) -> str:
    """A formula over the series labels: numbers, + - * /, unary minus, parentheses (x/0 included)."""
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        if draw(st.integers(0, 3)) == 0:
            return str(draw(st.sampled_from([0, 1, 2, 100, 0.5])))
        return draw(st.sampled_from(labels))
    left = draw(formula(labels, depth + 1))
    right = draw(formula(labels, depth + 1))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    text = f"({left} {op} {right})" if draw(st.booleans()) else f"{left} {op} {right}"
    return f"-{text}" if draw(st.integers(0, 5)) == 0 else text


# -- running -----------------------------------------------------------------------------------------


def declared_gap(dataset: Dataset, q: dict[str, Any], timezone: str) -> bool:
    """Whether the engine declares it cannot answer ``q`` (its capabilities)."""
    caps = dataset.project().adapter().flavor.capabilities
    percentile = any(s["measure"].startswith(("median", "p")) for s in q["series"])
    return (timezone != "UTC" and not caps.timezones) or (percentile and not caps.exact_percentiles)


@dataclass
class Tally:
    checked: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)


def check_one(dataset: Dataset, q: dict[str, Any], timezone: str, week_start: str, tally: Tally | None = None) -> None:
    """The engine equals the oracle, or refuses exactly a declared gap."""
    try:
        result = segwise.run(q, dataset.project(timezone, week_start), now=NOW)
    except segwise.UnsupportedError as exc:
        assert declared_gap(dataset, q, timezone), f"{dataset.backend} refused a query it should answer: {exc}"
        if tally is not None:
            tally.refused[dataset.backend] += 1
        return
    assert not declared_gap(dataset, q, timezone), f"{dataset.backend} answered a query it declares it cannot"
    expected = dataset.expected(q, timezone, week_start, NOW)
    assert_same(result, expected, q, timezone)
    if tally is not None:
        tally.checked[dataset.backend] += 1


def fuzz(dataset: Dataset, vocab: Vocabulary, examples: int, derandomize: bool, tally: Tally | None = None) -> None:
    """Run ``examples`` random queries on ``dataset``; hypothesis shrinks a failure to a small query."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        print_blob=True,
    )
    @given(query(vocab))
    def one(drawn: tuple[dict[str, Any], str, str]) -> None:
        q, timezone, week_start = drawn
        check_one(dataset, q, timezone, week_start, tally)

    one()


def load(engine: str, directory: Path, tables: dict[str, pa.Table]) -> Dataset:
    url = BACKENDS[engine].load(tables, directory, "fuzz")
    return Dataset("fuzz", engine, url, tables["events"], tables["users"], "event_name")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2000, help="random queries per engine")
    parser.add_argument("--engines", default=",".join(BACKENDS), help="comma-separated, from tests.backends.BACKENDS")
    parser.add_argument("--random", action="store_true", help="new random queries each run (default: derandomized)")
    args = parser.parse_args(argv)
    tables = fuzz_tables()
    vocab = vocabulary(tables)
    tally = Tally()
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            began = time.monotonic()
            try:
                dataset = load(engine, Path(tmp), tables)
            except BaseException as exc:  # an engine that is not installed here (pytest.skip raises)
                print(f"{engine}: not available ({type(exc).__name__}: {exc})")
                continue
            try:
                fuzz(dataset, vocab, args.examples, not args.random, tally)
            except Exception as exc:
                failed.append(engine)
                print(f"{engine}: FAILED\n{exc}")
            finally:
                dataset.close()
            print(
                f"{engine}: {tally.checked[engine]} queries equal to the oracle, "
                f"{tally.refused[engine]} refused as declared gaps, {time.monotonic() - began:.1f} s"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
