"""Every registered measure (the built-ins come through the same hook as plugins) is answered
correctly on every engine, plain and with each rewrite its definition allows.

The cases iterate over ``registry.measure_definitions()``: a measure registered without a case
here fails ``test_every_registered_measure_has_a_case``, so nothing ships untested. Expected values
come from the plain-Python oracle (tests/oracle.py); ``revenue_per_user`` (a plugin measure the
oracle does not know) is checked against sums and distinct counts computed here in Python.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import segwise
from segwise.registry import measure_definitions

RANGE = {"from": date(2025, 1, 10), "to": date(2025, 2, 10)}

# measure name -> measure texts that reach it through the grammar
CASES: dict[str, tuple[str, ...]] = {
    "events": ("events",),
    "unique_users": ("unique_users",),
    "events_per_user": ("events_per_user",),
    "sum": ("sum:revenue",),
    "avg": ("avg:revenue",),
    "min": ("min:revenue",),
    "max": ("max:revenue",),
    "percentile": ("median:revenue", "p90:revenue"),
    "active_users": ("wau", "active_users:3d"),
    "user_events": ("user_avg:events", "user_max:events"),
    "user_sum": ("user_median:sum:revenue",),
    "frequency": ("frequency",),
    "unique": ("unique:session_id", "unique:revenue"),
    "revenue_per_user": ("revenue_per_user:revenue",),
}


def test_every_registered_measure_has_a_case() -> None:
    assert set(measure_definitions()) == set(CASES)


def test_the_built_ins_are_registered_like_plugins() -> None:
    from segwise.plugins import measures as builtin

    assert {d.name for d in builtin.segwise_measures()} <= set(measure_definitions())
    assert measure_definitions()["events"] is next(d for d in builtin.BUILTIN_MEASURES if d.name == "events")


def _texts() -> list[tuple[str, str]]:
    return [(name, text) for name, texts in sorted(CASES.items()) for text in texts if name != "revenue_per_user"]


@pytest.mark.parametrize(("name", "text"), _texts(), ids=[t for _n, t in _texts()])
@pytest.mark.parametrize("shape", ["day", "week by platform", "top 2 by platform"])
def test_measure_equals_the_oracle(generated: Any, name: str, text: str, shape: str) -> None:
    definition = measure_definitions()[name]
    query: dict[str, Any] = {"series": [{"event": "purchase", "measure": text}], "date_range": RANGE}
    if definition.family == "frequency" and shape != "day":
        pytest.skip("a frequency distribution has no buckets or top-N")
    query["time_grain"] = "week" if shape != "day" else "day"
    if shape != "day":
        query["breakdown"] = ["platform"]
    if shape.startswith("top"):
        query["breakdown_limit"] = 2
    rows = generated.check(query)
    assert rows and any(r["value"] for r in rows), "a case that checks nothing"


def test_a_plugin_measure_equals_python(generated: Any) -> None:
    query = {
        "series": [{"event": "purchase", "measure": "revenue_per_user:revenue"}],
        "date_range": RANGE,
        "time_grain": "total",
    }
    table = segwise.run(query, generated.project("UTC", "monday"))
    purchases = [
        r
        for r in generated.events.to_pylist()
        if r[generated.event_name] == "purchase" and RANGE["from"] <= r["event_time"].date() < RANGE["to"]
    ]
    total = sum(r["revenue"] for r in purchases if r["revenue"] is not None)
    users = {r["user_id"] for r in purchases if r["user_id"] is not None}
    assert table.column("value").to_pylist() == [pytest.approx(total / len(users))]
