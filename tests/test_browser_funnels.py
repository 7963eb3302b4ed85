"""Funnels and retention in the explorer, in headless Chromium: each is built by clicking (steps
with filters and labels, window, order, exclusions, held properties, breakdown; start and return
events, cohorts, periods, windows, "on or after"), and the table, the chart, the funnel's
time-to-convert readout and the retention heatmap must show what the plain-Python references
(tests/oracle_funnel.py, tests/oracle_retention.py) answer — never segwise's own answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import (
    analysis_key,
    assert_shows,
    build,
    expected_points,
    plot_points,
    screenshot,
    sel,
    shows_oracle,
    url_query,
)
from tests.explorer_support import expected_rows, menu_queries

# The fixtures browser, project_file, server and page.
pytest_plugins = ["tests.browser_fixtures"]

FUNNELS: dict[str, dict[str, Any]] = {
    "ordered_exclusion_by_country": {
        "funnel": {
            "steps": [
                {"event": "login"},
                {
                    "event": "feature_used",
                    "where": [{"property": "feature", "op": "neq", "value": "api"}],
                    "label": "used",
                },
                {"event": "page_view", "label": "viewed"},
            ],
            "window": "2d",
            "exclude": [{"event": "push_opened", "before_step": 2}],
        },
        "date_range": {"last": "8w"},
        "time_grain": "total",
        "breakdown": ["country"],
        "breakdown_limit": 3,
    },
    "weekly_trend_held_platform": {
        "funnel": {
            "steps": [{"event": "page_view"}, {"event": "feature_used"}, {"event": "login"}],
            "window": "36h",
            "hold": ["platform"],
        },
        "date_range": {"from": "2025-04-07", "to": "2025-05-19"},
        "time_grain": "week",
    },
    "any_order_in_segment": {
        "funnel": {
            "steps": [{"event": "feature_used"}, {"event": "login"}, {"event": "payment"}],
            "window": "1w",
            "order": "any",
        },
        "date_range": {"last": "30d"},
        "time_grain": "total",
        "segment": {"user_where": [{"property": "account_type", "op": "eq", "value": "business"}]},
    },
}

RETENTION: dict[str, dict[str, Any]] = {
    "weekly_first_time_signups_by_account_type": {
        "retention": {"start": {"event": "signup"}, "return": {"event": "any"}, "periods": 6},
        "date_range": {"last": "10w"},
        "time_grain": "week",
        "breakdown": ["account_type"],
    },
    "daily_recurring_on_or_after": {
        "retention": {
            "start": {"event": "login"},
            "return": {"event": "feature_used", "where": [{"property": "feature", "op": "eq", "value": "reports"}]},
            "start_mode": "recurring",
            "periods": 5,
            "cumulative": True,
        },
        "date_range": {"last": "14d"},
        "time_grain": "day",
    },
}


def duration_text(seconds: float) -> str:
    """The readout's rule, written from docs/explorer.md: seconds, minutes, hours, days, one decimal."""
    for limit, size, unit in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h")):
        if seconds < limit:
            return f"{seconds:.0f} s" if unit == "s" else f"{seconds / size:.1f} {unit}"
    return f"{seconds / 86400:.1f} d"


@pytest.mark.parametrize("name", list(FUNNELS))
def test_funnel_built_by_clicking(page: Any, tmp_path: Path, name: str) -> None:
    query = FUNNELS[name]
    want = shows_oracle(page, query)
    last = len(query["funnel"]["steps"])
    assert any(r["step"] == last and r["count"] > 0 for r in want), "nobody converts: a case that checks little"
    assert any(r["step"] == 2 and r["count"] < r["count"] / (r["conversion"] or 1) for r in want if r["conversion"])
    # Time to convert: one readout row per reached step after the first, median and average.
    timed = [r for r in want if r["step"] > 1 and r["count"] > 0 and r["median_seconds"] is not None]
    shown = page.eval_on_selector_all(
        "#funnel-times tbody tr",
        "trs => trs.map(tr => [tr.dataset.bucket, tr.dataset.step, JSON.parse(tr.dataset.median), "
        "JSON.parse(tr.dataset.avg), tr.querySelector('.median').textContent, tr.querySelector('.avg').textContent])",
    )
    if query["funnel"].get("order") == "any":
        assert not timed and not shown  # any order: no times
    else:
        assert timed, "no times to show"
        assert len(shown) == len(timed)
        for got, r in zip(shown, timed, strict=True):
            assert got[:2] == [r["bucket"], str(r["step"])]
            assert got[2] == pytest.approx(r["median_seconds"], rel=1e-9)
            assert got[3] == pytest.approx(r["avg_seconds"], rel=1e-9)
            assert got[4:] == [duration_text(r["median_seconds"]), duration_text(r["avg_seconds"])]
    kind = page.evaluate("segwise.meta.type")
    assert kind == ("bar" if query["time_grain"] == "total" else "line")
    if name == "ordered_exclusion_by_country":
        assert len({r["country"] for r in want}) == 4  # top 3 + Other
        screenshot(page, "explorer-funnel", tmp_path)
    if name == "weekly_trend_held_platform":
        screenshot(page, "explorer-funnel-trend", tmp_path)


@pytest.mark.parametrize("name", list(RETENTION))
def test_retention_built_by_clicking(page: Any, tmp_path: Path, name: str) -> None:
    query = RETENTION[name]
    want = shows_oracle(page, query)
    assert any(r["period"] > 0 and 0 < r["count"] < r["cohort_size"] for r in want), "a case that checks little"
    assert any(r["cohort"] is None for r in want) and any(r["cohort"] is not None for r in want)
    # The heatmap: a cell per row (cohort or summary, group, period) with its count and rate.
    cells = page.eval_on_selector_all(
        "#retention-heatmap td.cell[data-period]",
        "tds => tds.map(td => [td.closest('tr').dataset.cohort, td.closest('tr').dataset.group, "
        "Number(td.dataset.period), Number(td.dataset.count), JSON.parse(td.dataset.rate)])",
    )
    groups = [c for c in want[0] if c not in ("cohort", "period", "count", "cohort_size", "rate")]
    expected = [
        [
            r["cohort"] or "",
            " / ".join("∅" if r[g] is None else str(r[g]) for g in groups),
            r["period"],
            r["count"],
            r["rate"],
        ]
        for r in want
    ]
    as_float = [[*c[:4], None if c[4] is None else float(c[4])] for c in cells]
    assert sorted(map(repr, as_float)) == sorted(map(repr, expected))
    if name == "weekly_first_time_signups_by_account_type":
        screenshot(page, "explorer-retention", tmp_path)


def test_funnel_steps_move_and_exclusions_follow_the_order(page: Any) -> None:
    page.select_option("#analysis", "funnel")
    build(page, FUNNELS["weekly_trend_held_platform"])
    page.click(sel("funnel.steps.2.up"))  # login before feature_used
    _, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["page_view", "login", "feature_used"]
    page.click(sel("funnel.steps.0.remove"))
    _, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["login", "feature_used"]
    assert page.is_disabled(sel("funnel.steps.0.remove"))  # a funnel keeps two steps
    page.select_option(sel("funnel.order"), "any")
    assert page.locator(sel("funnel.add_exclusion")).count() == 0  # exclusions are for ordered funnels
    key, query = url_query(page)
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query), "funnel")


MENU = [m for m in menu_queries() if analysis_key(m[2]) in ("funnel", "retention")]


@pytest.mark.parametrize("name", [m[0] for m in MENU])
def test_funnel_and_retention_examples_from_the_menu(page: Any, name: str) -> None:
    """The example menu lists the funnel and retention examples; chosen, each shows the reference's
    answer (the URL's query may drop what is a default, so it is compared by its answer)."""
    _, question, query = next(m for m in MENU if m[0] == name)
    page.select_option("#example", label=question)
    key, in_url = url_query(page)
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert page.input_value("#analysis") == analysis_key(query)
    want = expected_rows(query)
    assert expected_rows(in_url) == want
    assert_shows(page, want, analysis_key(query))


def test_the_menu_has_funnels_and_retention() -> None:
    assert {analysis_key(m[2]) for m in MENU} == {"funnel", "retention"} and len(MENU) >= 5


@pytest.mark.parametrize("kind", ["funnel", "retention"])
def test_plot_page_draws_the_analysis(browser: Any, server: Any, tmp_path: Path, kind: str) -> None:
    """``segwise run --plot``'s page tells funnels and retention from the rows' columns."""
    query = next(iter(FUNNELS.values())) if kind == "funnel" else next(iter(RETENTION.values()))
    drawn = plot_points(browser, server, query, tmp_path)
    assert drawn == pytest.approx(expected_points(expected_rows(query), kind))
