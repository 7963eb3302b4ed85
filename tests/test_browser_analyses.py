"""Lifecycle and stickiness in the explorer, in headless Chromium: each is built by clicking (the
analysis picker, its event and filters, breakdown, segment, range, grain, cumulative), and the
table and the chart must show what the plain-Python references (tests/oracle_lifecycle.py,
tests/oracle_stickiness.py) answer — never segwise's own answer. Also: switching analyses keeps
what fits, errors name where, screenshots of both charts.

The gallery's "weekly lifecycle" and "weekly stickiness" are built by clicking in
tests/test_browser.py with every other gallery question.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import (
    assert_shows,
    chart_points,
    choose,
    expected_points,
    plot_points,
    screenshot,
    sel,
    shows_oracle,
    url_query,
)
from tests.explorer_support import expected_rows

# The fixtures browser, project_file, server and page.
pytest_plugins = ["tests.browser_fixtures"]

LIFECYCLE: dict[str, dict[str, Any]] = {
    "weekly_by_account_type_in_segment": {
        "lifecycle": {"event": "page_view", "where": [{"property": "platform", "op": "in", "values": ["web", "ios"]}]},
        "date_range": {"from": "2025-03-03", "to": "2025-05-26"},
        "time_grain": "week",
        "breakdown": ["account_type"],
        "segment": {"did_not": {"event": "purchase"}},
    },
    "monthly_combined_event": {
        "lifecycle": {
            "event": {
                "any_of": [
                    "login",
                    {"event": "feature_used", "where": [{"property": "feature", "op": "eq", "value": "reports"}]},
                ]
            }
        },
        "date_range": {"last": "4m"},
        "time_grain": "month",
    },
    "daily": {"lifecycle": {"event": "login"}, "date_range": {"last": "10d"}, "time_grain": "day"},
}

STICKINESS: dict[str, dict[str, Any]] = {
    "weekly_cumulative_by_subscription": {
        "stickiness": {"event": "feature_used", "where": [{"property": "feature", "op": "neq", "value": "api"}]},
        "date_range": {"last": "6w"},
        "time_grain": "week",
        "cumulative": True,
        "breakdown": ["subscription_type"],
    },
    # Not whole weeks: the first and last buckets have fewer days inside the range.
    "partial_weeks_in_segment": {
        "stickiness": {"event": "page_view"},
        "date_range": {"from": "2025-05-07", "to": "2025-06-05"},
        "time_grain": "week",
        "segment": {"user_where": [{"property": "account_type", "op": "eq", "value": "business"}]},
    },
    "total_month": {"stickiness": {"event": "login"}, "date_range": {"last": "30d"}, "time_grain": "total"},
}


@pytest.mark.parametrize("name", list(LIFECYCLE))
def test_lifecycle_built_by_clicking(page: Any, tmp_path: Path, name: str) -> None:
    query = LIFECYCLE[name]
    want = shows_oracle(page, query)
    assert {r["status"] for r in want if r["value"]} == {"new", "returning", "resurrecting", "dormant"}, "too easy"
    # Stacked bars per bucket; dormant below zero, the other statuses above it.
    option = page.evaluate("segwise.chart.getOption().series.map(s => ({name: s.name, type: s.type, stack: s.stack}))")
    assert option and all(s["type"] == "bar" and s["stack"] for s in option)
    drawn = chart_points(page)
    assert any(v < 0 for v in drawn.values())
    for (legend, _), v in drawn.items():
        assert v <= 0 if legend.endswith("dormant") else v >= 0, (legend, v)
    groups = {r.get("account_type") for r in want}
    assert len({s["stack"] for s in option}) == len(groups)  # one stack per breakdown group
    assert page.is_hidden("#chart-types") and page.is_hidden("#breakdown-top") and page.is_hidden("#compare-label")
    if name == "weekly_by_account_type_in_segment":
        screenshot(page, "explorer-lifecycle", tmp_path)


@pytest.mark.parametrize("name", list(STICKINESS))
def test_stickiness_built_by_clicking(page: Any, tmp_path: Path, name: str) -> None:
    query = STICKINESS[name]
    want = shows_oracle(page, query)
    assert any(r["value"] and r["days"] >= 3 for r in want), "a case that checks little"
    drawn = chart_points(page)
    assert page.evaluate("segwise.chart.getOption().series.every(s => s.type === 'bar')")
    # The x axis counts days: 1 .. the longest bucket's days inside the range.
    days = page.evaluate("segwise.chart.getOption().xAxis[0].data")
    assert days == [str(d) for d in range(1, max(r["days"] for r in want) + 1)]
    if name == "partial_weeks_in_segment":
        spans = {}
        for r in want:
            spans[r["bucket"]] = max(spans.get(r["bucket"], 0), r["days"])
        # 2025-05-07 is a Wednesday (5 days of its week), 2025-06-05 a Thursday (3 days before it)
        assert sorted(set(spans.values())) == [3, 5, 7]
        assert len(drawn) == len(want)  # no bar beyond a partial bucket's last day
    if name == "weekly_cumulative_by_subscription":
        screenshot(page, "explorer-stickiness", tmp_path)


def test_switching_analyses_keeps_what_fits(page: Any) -> None:
    page.wait_for_selector("#results[data-state=done]")
    assert page.input_value("#analysis") == "series"
    page.click("#add-breakdown")
    choose(page, "breakdown.0", "platform")  # an event property: lifecycle and stickiness refuse it
    page.click("#add-breakdown")
    choose(page, "breakdown.1", "account_type")
    page.fill("#breakdown-limit", "3")
    page.select_option("#time-grain", "day")
    page.select_option("#analysis", "lifecycle")
    _, query = url_query(page)
    assert query == {
        "lifecycle": {"event": "page_view"},  # the series' event
        "date_range": {"last": "30d"},
        "time_grain": "day",
        "breakdown": ["account_type"],
    }
    grains = page.eval_on_selector_all("#time-grain option", "os => os.map(o => o.value)")
    assert grains == ["hour", "day", "week", "month"]
    # The breakdown offers user properties only.
    offered = page.eval_on_selector_all(f"{sel('breakdown.0')} option", "os => os.map(o => o.value)")
    assert "account_type" in offered and "platform" not in offered and "event" not in offered
    choose(page, "lifecycle.event", "login")
    page.select_option("#analysis", "stickiness")
    _, query = url_query(page)
    assert query["stickiness"] == {"event": "login"} and query["time_grain"] == "week"  # day is refused
    page.check("#cumulative")
    key, query = url_query(page)
    assert query["cumulative"] is True
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query), "stickiness")
    page.select_option("#analysis", "series")
    _, query = url_query(page)
    assert query["series"] == [{"event": "login", "measure": "unique_users"}] and "cumulative" not in query
    assert page.is_visible("#add-series") and page.is_visible("#chart-types") and page.is_visible("#breakdown-top")


def test_an_analysis_error_names_where(page: Any, server: Any) -> None:
    bad = {"lifecycle": {"event": "login"}, "date_range": {"last": "2q"}, "time_grain": "quarter"}
    key = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode().rstrip("=")
    page.goto(f"{server.url}/#q={key}")
    page.wait_for_selector("#results[data-state=error]")
    text = page.inner_text("#error")
    assert "lifecycle compares a bucket with the one before" in text and "not quarter" in text
    assert page.input_value("#analysis") == "lifecycle"
    assert page.input_value("#time-grain") == "quarter"  # kept, marked as not offered
    page.select_option("#time-grain", "month")
    key, query = url_query(page)
    assert query["time_grain"] == "month"
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query), "lifecycle")


@pytest.mark.parametrize("kind", ["lifecycle", "stickiness"])
def test_plot_page_draws_the_analysis(browser: Any, server: Any, tmp_path: Path, kind: str) -> None:
    """``segwise run --plot``'s page tells the analysis from the rows' columns and draws it as the explorer."""
    query = next(iter(LIFECYCLE.values())) if kind == "lifecycle" else next(iter(STICKINESS.values()))
    drawn = plot_points(browser, server, query, tmp_path)
    assert drawn == expected_points(expected_rows(query), kind)
