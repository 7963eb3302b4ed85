"""Bad input through the Python API: the right error kind, naming the problem and where it is.

Each case asserts the exception class (``SpecError`` for a malformed or inconsistent query,
``CatalogError`` for names the warehouse does not have) and that the text names the place
(series index and label, field) and the offending value. Runs on every backend.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import segwise

R = {"from": "2025-01-01", "to": "2025-01-10"}


def query(*series: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"series": list(series), "date_range": R, **extra}


CASES: dict[str, tuple[dict[str, Any], type[segwise.SegwiseError], list[str]]] = {
    "unknown_event": (
        query({"event": "page_view"}, {"event": "pageview"}),
        segwise.CatalogError,
        ["series[1]", "label B", "event", "'pageview'", "page_view"],  # with a suggestion
    ),
    "unknown_event_in_any_of": (
        query({"event": {"any_of": ["login", {"event": "logn"}]}}),
        segwise.CatalogError,
        ["series[0]", "'logn'"],
    ),
    "unknown_property": (
        query({"event": "page_view", "where": [{"property": "contry", "op": "eq", "value": "US"}]}),
        segwise.CatalogError,
        ["series[0]", "label A", "where[0]", "property", "'contry'"],
    ),
    "unknown_property_in_member_where": (
        query({"event": {"any_of": ["login", {"event": "signup", "where": [{"property": "nope", "op": "is_null"}]}]}}),
        segwise.CatalogError,
        ["series[0]", "any_of[1]", "where[0]", "'nope'"],
    ),
    "unknown_breakdown_property": (
        query({"event": "page_view"}, breakdown=["platform", "contry"]),
        segwise.CatalogError,
        ["breakdown[1]", "'contry'"],
    ),
    "unknown_measure_property": (
        query({"event": "page_view", "label": "views", "measure": "sum:revenu"}),
        segwise.CatalogError,
        ["series[0]", "label views", "measure", "'revenu'"],
    ),
    "unknown_measure": (
        query({"event": "page_view"}, {"event": "login", "measure": "count"}),
        segwise.SpecError,
        ["series[1]", "label B", "measure", "'count'"],
    ),
    "measure_on_text_property": (
        query({"event": "page_view", "measure": "avg:country"}),
        segwise.SpecError,
        ["series[0]", "measure", "country"],
    ),
    "percentile_out_of_range": (
        query({"event": "purchase", "measure": "p100:revenue"}),
        segwise.SpecError,
        ["series[0]", "measure", "p100"],
    ),
    "unknown_operator": (
        query({"event": "page_view", "where": [{"property": "country", "op": "equals", "value": "US"}]}),
        segwise.SpecError,
        ["series[0]", "where[0]", "op"],
    ),
    "text_value_for_numeric_property": (
        query({"event": "purchase", "where": [{"property": "revenue", "op": "gt", "value": "ten"}]}),
        segwise.SpecError,
        ["series[0]", "where[0]", "revenue", "'ten'"],
    ),
    "text_in_list_for_numeric_property": (
        query({"event": "purchase", "where": [{"property": "amount", "op": "in", "values": [9, "x"]}]}),
        segwise.SpecError,
        ["series[0]", "where[0]", "amount", "'x'"],
    ),
    "bad_date_value": (
        query({"event": "login", "where": [{"property": "event_date", "op": "gt", "value": "yesterday"}]}),
        segwise.SpecError,
        ["series[0]", "where[0]", "event_date", "'yesterday'"],
    ),
    "contains_on_numeric_property": (
        query(
            {"event": "purchase", "label": "buys", "where": [{"property": "revenue", "op": "contains", "value": "1"}]}
        ),
        segwise.SpecError,
        ["series[0]", "label buys", "where[0]", "contains", "revenue"],
    ),
    "between_with_one_value": (
        query({"event": "purchase", "where": [{"property": "revenue", "op": "between", "values": [1]}]}),
        segwise.SpecError,
        ["series[0]", "where[0]", "between"],
    ),
    "eq_without_value": (
        query({"event": "purchase", "where": [{"property": "plan", "op": "eq"}]}),
        segwise.SpecError,
        ["series[0]", "where[0]", "value"],
    ),
    "to_before_from": (
        {"series": [{"event": "page_view"}], "date_range": {"from": "2025-02-01", "to": "2025-01-01"}},
        segwise.SpecError,
        ["date_range", "`to`", "`from`"],
    ),
    "to_equals_from": (
        {"series": [{"event": "page_view"}], "date_range": {"from": "2025-02-01", "to": "2025-02-01"}},
        segwise.SpecError,
        ["date_range"],
    ),
    "bad_relative_range": (
        {"series": [{"event": "page_view"}], "date_range": {"last": "30x"}},
        segwise.SpecError,
        ["date_range", "last", "30x"],
    ),
    "unknown_top_level_key": (
        query({"event": "page_view"}, grain="day"),
        segwise.SpecError,
        ["grain", "unknown field"],
    ),
    "unknown_series_key": (
        query({"event": "page_view", "measures": "events"}),
        segwise.SpecError,
        ["series[0]", "measures", "unknown field"],
    ),
    "unknown_time_grain": (
        query({"event": "page_view"}, time_grain="fortnight"),
        segwise.SpecError,
        ["time_grain"],
    ),
    "no_series": (
        query(),
        segwise.SpecError,
        ["series"],
    ),
    "duplicate_labels": (
        query({"event": "page_view", "label": "x"}, {"event": "login", "label": "x"}),
        segwise.SpecError,
        ["'x'"],
    ),
    "breakdown_limit_zero": (
        query({"event": "page_view"}, breakdown=["platform"], breakdown_limit=0),
        segwise.SpecError,
        ["breakdown_limit"],
    ),
    "breakdown_named_like_a_result_column": (
        query({"event": "page_view"}, breakdown=["series"]),
        segwise.SpecError,
        ["breakdown[0]", "'series'"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_query(generated, case):
    q, kind, fragments = CASES[case]
    with pytest.raises(segwise.SegwiseError) as info:
        segwise.run(q, generated.project())
    assert type(info.value) is kind, f"{type(info.value).__name__}: {info.value}"
    text = str(info.value)
    missing = [f for f in fragments if f not in text]
    assert not missing, f"{missing} not in the message: {text}"
    assert "Traceback" not in text


def test_malformed_yaml_names_file_line_and_column(generated, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "series:\n  - event: page_view\n    measure: [events\ndate_range: {from: 2025-01-01, to: 2025-01-10}\n"
    )
    with pytest.raises(segwise.SpecError) as info:
        segwise.run(str(path), generated.project())
    text = str(info.value)
    assert re.search(re.escape(str(path)) + r":\d+:\d+", text), text
    assert "YAML" in text


def test_yaml_file_errors_name_the_file(generated, tmp_path):
    path = tmp_path / "query.yaml"
    path.write_text(
        "series:\n  - event: page_view\n    where:\n      - {property: revenue, op: between, values: [1]}\n"
        "date_range: {from: 2025-01-01, to: 2025-01-10}\n"
    )
    with pytest.raises(segwise.SpecError) as info:
        segwise.run(path, generated.project())
    text = str(info.value)
    assert str(path) in text and "series[0]" in text and "between" in text, text


def test_yaml_file_catalog_errors_name_the_series(generated, tmp_path):
    path = tmp_path / "query.yaml"
    path.write_text("series:\n  - event: page_view\n  - event: nosuchevent\ndate_range: {last: 30d}\n")
    with pytest.raises(segwise.CatalogError) as info:
        segwise.run(path, generated.project(), now="2025-02-01T00:00:00")
    text = str(info.value)
    assert "series[1]" in text and "nosuchevent" in text, text


def test_a_missing_query_file(generated, tmp_path):
    with pytest.raises(segwise.SpecError) as info:
        segwise.run(tmp_path / "nope.yaml", generated.project())
    assert "nope.yaml" in str(info.value)
