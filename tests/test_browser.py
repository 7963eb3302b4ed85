"""The explorer page in headless Chromium: every gallery question is built by clicking, and the
chart, the table and the SQL panel must show the oracle's answer; a reload from the URL shows it
again. Also: an advanced query (combined event, filters, formula, top-N breakdown, segment,
compare), the dialect switch, keyboard use, errors and cancelling a long query.

The browser and the live server are in tests/browser_fixtures.py (what they need: Chromium and
playwright), the helpers that click and read in tests/browser_support.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import segwise
from tests.browser_support import (
    analysis_key,
    assert_shows,
    build,
    choose,
    expected_sql,
    run_with_enter,
    screenshot,
    sel,
    set_range,
    url_query,
    wait_sql,
)
from tests.explorer_support import NOW, expected_rows, gallery_queries

# The fixtures browser, project_file, server and page.
pytest_plugins = ["tests.browser_fixtures"]
GALLERY = gallery_queries()


# -- the gallery ---------------------------------------------------------------------------------------

SHOTS = {"daily_active_users": "explorer-line", "signups_per_country": "explorer-top-n"}


@pytest.mark.parametrize("name,question,query", GALLERY, ids=[g[0] for g in GALLERY])
def test_gallery_question_built_by_clicking(
    page: Any, project_file: Path, tmp_path: Path, name: str, question: str, query: dict[str, Any]
) -> None:
    build(page, query)
    key, in_url = url_query(page)
    assert in_url == query  # the clicks made exactly the gallery's query
    run_with_enter(page)
    want = expected_rows(query)
    kind = analysis_key(query)
    assert_shows(page, want, kind)
    assert wait_sql(page, key, "duckdb") == expected_sql(project_file, query)
    if name in SHOTS:
        screenshot(page, SHOTS[name], tmp_path)
    # The URL alone brings the same view back.
    page.reload()
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, want, kind)
    assert page.input_value("#analysis") == kind
    event = query["series"][0]["event"] if kind == "series" else query[kind]["event"]
    assert page.input_value(sel("series.0.event" if kind == "series" else f"{kind}.event")) == (
        event if isinstance(event, str) else "__combined"
    )


# -- beyond the gallery -----------------------------------------------------------------------------------

ADVANCED = {
    "series": [
        {
            "event": "page_view",
            "where": [{"property": "platform", "op": "in", "values": ["web", "ios"]}],
            "measure": "unique_users",
            "label": "visitors",
        },
        {
            "event": {
                "any_of": [
                    {"event": "purchase", "where": [{"property": "revenue", "op": "gt", "value": 20}]},
                    "payment",
                ]
            },
            "measure": "unique_users",
            "label": "buyers",
        },
    ],
    "date_range": {"from": "2025-04-01", "to": "2025-06-30"},
    "time_grain": "month",
    "breakdown": ["country"],
    "breakdown_limit": 3,
    "formulas": [{"label": "conversion", "expression": "buyers / visitors * 100"}],
    "segment": {"user_where": [{"property": "account_type", "op": "neq", "value": "personal"}]},
    "compare": "previous_period",
}


def test_advanced_query_formula_segment_compare(page: Any, server: Any, project_file: Path, tmp_path: Path) -> None:
    build(page, ADVANCED)
    key, in_url = url_query(page)
    assert in_url == ADVANCED
    run_with_enter(page)
    from segwise.output import records

    want = records(segwise.run(ADVANCED, server.project, now=NOW))
    assert {r["series"] for r in want} >= {"visitors", "buyers", "conversion", "visitors (previous)"}
    assert_shows(page, want)
    page.check('input[name="chart-type"][value="bar"]')
    assert page.evaluate("segwise.chart.getOption().series.every(s => s.type === 'bar')")
    assert "chart=bar" in page.evaluate("location.hash")
    screenshot(page, "explorer-advanced", tmp_path)
    # The SQL panel follows the dialect; the choice is part of the URL too.
    page.select_option("#dialect", "snowflake")
    assert wait_sql(page, key, "snowflake") == expected_sql(project_file, ADVANCED, "snowflake")
    assert "dialect=snowflake" in page.evaluate("location.hash")
    page.locator("#sql-panel").scroll_into_view_if_needed()
    screenshot(page, "explorer-sql", tmp_path)
    page.reload()
    wait_sql(page, key, "snowflake")
    assert page.input_value("#dialect") == "snowflake"
    assert page.is_checked('input[name="chart-type"][value="bar"]')
    assert page.input_value(sel("series.1.event")) == "__combined"
    assert page.input_value(sel("series.1.event.any_of.0.where.0.value")) == "20"


def test_keyboard_labels_and_relative_range(page: Any) -> None:
    # Every control of the builder has an accessible name.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('#builder select, #builder input')].filter(el =>
            !el.getAttribute('aria-label') && !(el.id && document.querySelector(`label[for="${el.id}"]`))
            && !el.closest('label')).map(el => el.outerHTML)"""
    )
    assert unnamed == []
    page.focus(sel("series.0.label"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.path") == "series.0.event"
    page.keyboard.type("sign")  # typing selects in a focused select
    choose(page, "series.0.event", "signup")
    set_range(page, "date_range", {"last": "8w"})
    page.select_option("#time-grain", "week")
    page.focus(sel("date_range.amount"))
    page.keyboard.press("Enter")
    key, query = url_query(page)
    assert query["date_range"] == {"last": "8w"} and query["series"][0]["event"] == "signup"
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query))


def test_an_example_from_the_gallery_menu(page: Any) -> None:
    _, question, query = GALLERY[0]
    page.select_option("#example", label=question)
    key, in_url = url_query(page)
    assert in_url == query
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query))


@pytest.mark.parametrize("name", [g[0] for g in GALLERY if analysis_key(g[2]) != "series"])
def test_an_analysis_from_the_gallery_menu(page: Any, name: str) -> None:
    _, question, query = next(g for g in GALLERY if g[0] == name)
    page.select_option("#example", label=question)
    key, in_url = url_query(page)
    assert in_url == query
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert page.input_value("#analysis") == analysis_key(query)
    assert_shows(page, expected_rows(query), analysis_key(query))


def test_errors_are_shown_with_where(page: Any, server: Any) -> None:
    bad = {"series": [{"event": "signupx", "measure": "events"}], "date_range": {"last": "7d"}}
    key = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode().rstrip("=")
    page.goto(f"{server.url}/#q={key}")
    page.wait_for_selector("#results[data-state=error]")
    text = page.inner_text("#error")
    assert "series[0] (label A) > event" in text and "unknown event 'signupx'" in text and "signup" in text
    assert page.input_value(sel("series.0.event")) == "signupx"  # kept, marked unknown


def test_a_long_query_shows_progress_and_can_be_cancelled(
    page: Any, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segwise.execute

    original = segwise.execute.answer
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return original(*args, **kwargs)

    page.wait_for_selector("#results[data-state=done]")  # the page's first answer is in
    monkeypatch.setattr(segwise.execute, "answer", slow)
    before = server.runner.cancelled
    try:
        page.click("#run")
        page.wait_for_selector("#results[data-state=running]")
        time.sleep(0.3)
        assert page.is_visible("#progress") and page.is_visible("#cancel")
        assert page.inner_text("#status").startswith("running…")
        page.keyboard.press("Escape")
        page.wait_for_selector("#results[data-state=cancelled]")
        assert not page.is_visible("#cancel") and page.inner_text("#status") == "cancelled"
        deadline = time.monotonic() + 5
        while server.runner.cancelled == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.runner.cancelled == before + 1  # the server saw the client go away
    finally:
        release.set()
