"""``Query.parse`` remembers the dicts it validated (a repeated question is not validated again):
only a dict equal in every value *and type* gets the remembered query; anything else is parsed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

import segwise
from segwise.query import Query


def question(value: object, start: object = "2025-01-01") -> dict[str, object]:
    return {
        "series": [{"event": "view", "where": [{"property": "n", "op": "eq", "value": value}]}],
        "date_range": {"from": start, "to": "2025-02-01"},
    }


def test_the_same_dict_gives_the_same_query() -> None:
    first = Query.parse(question(1))
    assert Query.parse(question(1)) is first
    assert first.canonical() == repr(first)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (question(1), question(True)),
        (question(1), question(1.0)),
        (question(1), question("1")),
        (question(1, date(2025, 1, 1)), question(1, "2025-01-01")),
        (
            question(datetime(2025, 1, 1, 12, tzinfo=UTC)),
            question(datetime(2025, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))),  # the same instant
        ),
    ],
)
def test_other_types_are_parsed_apart(a: dict[str, object], b: dict[str, object]) -> None:
    qa, qb = Query.parse(a), Query.parse(b)
    assert qa is not qb
    assert qa.series[0].where[0] == Query.parse(a).series[0].where[0]


def test_a_changed_dict_is_parsed_again_and_errors_every_time() -> None:
    data = question(5)
    first = Query.parse(data)
    data["series"][0]["where"][0]["value"] = 6  # type: ignore[index]
    second = Query.parse(data)
    assert second is not first and second.series[0].where[0].value == 6
    bad = {"series": [{"event": "view", "where": [{"property": "n", "op": "nope", "value": 1}]}]}
    for _ in range(2):
        with pytest.raises(segwise.SpecError, match=r"where\[0\] > op: must be one of"):
            Query.parse(bad)


def test_values_of_other_types_are_not_remembered() -> None:
    class Odd:
        def __repr__(self) -> str:
            return "'x'"

    assert Query.parse(question("x")) is Query.parse(question("x"))
    with pytest.raises(segwise.SpecError):
        Query.parse(question(Odd()))  # not a plain value: validated (and refused) every time
