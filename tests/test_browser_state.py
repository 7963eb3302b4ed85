"""The explorer's state in headless Chromium, where it once went wrong: an example chosen from the
menu keeps the values its query states even when they are defaults (a retention's
``periods: 8``) until the person changes that control (then a default is left out again);
removing a funnel step renumbers the exclusions' ``after_step`` / ``before_step`` and moving one
keeps them on their steps (a note says when an exclusion changed); switching to a funnel or a
retention starts at its own default grain (their grain means something else than a
segmentation's). Answers are compared with the plain-Python references
(tests/explorer_support.expected_rows), never with segwise's own.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.browser_support import assert_shows, build, choose, sel, url_query
from tests.explorer_support import expected_rows, menu_queries

# The fixtures browser, project_file, server and page.
pytest_plugins = ["tests.browser_fixtures"]

MENU = menu_queries()
DEFAULTS = {"start_mode": "first_time", "periods": 8, "windows": "calendar", "cumulative": False, "order": "ordered"}


def _states_a_default(query: dict[str, Any]) -> bool:
    parts = [query, *(v for v in query.values() if isinstance(v, dict))]
    return any(part.get(key) == value for part in parts for key, value in DEFAULTS.items())


def test_menu_examples_keep_their_own_values(page: Any) -> None:
    page.wait_for_selector("#results[data-state=done]")
    assert any(_states_a_default(q) for _, _, q in MENU), "no example states a default: nothing is checked"
    # the menu is filled from its own request, which may answer after the results (seen under load)
    page.wait_for_selector("#example option[value]:not([value=''])", state="attached")
    labels = page.eval_on_selector_all("#example option", "os => os.filter(o => o.value).map(o => o.text)")
    assert labels == [question for _, question, _ in MENU]  # the menu lists exactly these, in order
    for name, question, query in MENU:
        page.select_option("#example", label=question)  # a label names one example (see below)
        _, in_url = url_query(page)
        assert in_url == query, name
    # the last one's answer, as the reference has it
    key, in_url = url_query(page)
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')


def test_every_menu_label_names_one_example() -> None:
    """The menu's labels are the examples' questions (their first comment line): each must name
    one file, or choosing it by label picks another (users_by_city / users_by_country once did)."""
    questions = [question for _, question, _ in MENU]
    repeated = sorted({q for q in questions if questions.count(q) > 1})
    assert not repeated, repeated
    assert len(questions) >= 30  # the gallery and its subfolders' funnels and retention


def test_a_retention_example_with_stated_defaults_answers_from_the_url(page: Any) -> None:
    _, question, query = next(m for m in MENU if m[0] == "weekly_signup_retention")
    assert query["retention"]["periods"] == 8 and query["retention"]["start_mode"] == "first_time"
    page.select_option("#example", label=question)
    key, in_url = url_query(page)
    assert in_url["retention"]["periods"] == 8 and in_url["retention"]["start_mode"] == "first_time"
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query), "retention")
    page.reload()  # the URL alone keeps them
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert url_query(page)[1] == query


FUNNEL = {
    "funnel": {
        "steps": [{"event": "page_view"}, {"event": "login"}, {"event": "feature_used"}, {"event": "payment"}],
        "exclude": [
            {"event": "push_sent", "after_step": 2, "before_step": 3},
            {"event": "signup", "after_step": 3},
        ],
    },
    "date_range": {"last": "8w"},
    "time_grain": "total",
}


def _exclusions(page: Any) -> list[tuple[str, str]]:
    count = page.locator(".funnel-exclusion").count()
    path = "funnel.exclude.{}.{}"
    return [
        (page.input_value(sel(path.format(i, "after_step"))), page.input_value(sel(path.format(i, "before_step"))))
        for i in range(count)
    ]


def test_removing_a_funnel_step_renumbers_the_exclusions(page: Any) -> None:
    build(page, FUNNEL)
    _, in_url = url_query(page)
    assert in_url == FUNNEL
    # step 1 goes: every later step moves up by one
    page.click(sel("funnel.steps.0.remove"))
    _, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["login", "feature_used", "payment"]
    assert query["funnel"]["exclude"] == [  # (steps that are the defaults, 1 and the last, are not written)
        {"event": "push_sent", "before_step": 2},  # was after 2, before 3
        {"event": "signup", "after_step": 2},  # was after 3, before the last (4, now 3)
    ]
    assert _exclusions(page) == [("1", "2"), ("2", "3")]
    # the step an exclusion starts after goes: it widens to the step before
    page.click(sel("funnel.steps.1.remove"))  # feature_used
    key, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["login", "payment"]
    assert query["funnel"]["exclude"] == [
        {"event": "push_sent"},  # before the removed step 2: now before the step in its place
        {"event": "signup"},  # after the removed step 2: widened to after step 1
    ]
    assert _exclusions(page) == [("1", "2"), ("1", "2")]
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    want = expected_rows(query)
    assert any(r["count"] for r in want if r["step"] == 2), "a case that checks little"
    assert_shows(page, want, "funnel")


def test_switching_to_a_funnel_or_a_retention_starts_at_its_own_grain(page: Any) -> None:
    page.wait_for_selector("#results[data-state=done]")
    assert page.input_value("#time-grain") == "day"  # the segmentation's default
    page.select_option("#analysis", "funnel")
    key, query = url_query(page)
    assert query["time_grain"] == "total"  # one funnel over the range, not one per day
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query), "funnel")
    page.select_option("#analysis", "series")
    assert url_query(page)[1]["time_grain"] == "day"  # the funnel's total does not carry back
    page.select_option("#time-grain", "week")
    page.select_option("#analysis", "retention")
    assert url_query(page)[1]["time_grain"] == "week"  # retention's default (cohorts by week)
    page.select_option("#time-grain", "day")
    page.select_option("#analysis", "lifecycle")
    assert url_query(page)[1]["time_grain"] == "week"  # not the retention's day
    choose(page, "lifecycle.event", "login")
    page.select_option("#time-grain", "day")
    page.select_option("#analysis", "series")
    assert url_query(page)[1]["time_grain"] == "day"  # between time-series analyses the grain carries


def test_moving_a_funnel_step_keeps_the_exclusions_on_their_steps(page: Any) -> None:
    build(page, FUNNEL)  # page_view, login, feature_used, payment; push_sent between login and feature_used
    page.click(sel("funnel.steps.0.down"))  # page_view and login trade places
    _, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["login", "page_view", "feature_used", "payment"]
    assert query["funnel"]["exclude"] == [
        {"event": "push_sent", "before_step": 3},  # still after login (now 1) and before feature_used (3)
        {"event": "signup", "after_step": 3},  # still after feature_used and before payment
    ]
    assert _exclusions(page) == [("1", "3"), ("3", "4")]
    assert page.locator("#funnel-note").count() == 0  # no exclusion changed its steps: nothing to say
    page.click(sel("funnel.steps.2.up"))  # feature_used before page_view
    _, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["login", "feature_used", "page_view", "payment"]
    assert _exclusions(page) == [("1", "2"), ("2", "4")]
    # feature_used before login: push_sent's two steps change order; it stays between them, and says so
    page.click(sel("funnel.steps.1.up"))
    key, query = url_query(page)
    assert [s["event"] for s in query["funnel"]["steps"]] == ["feature_used", "login", "page_view", "payment"]
    assert query["funnel"]["exclude"] == [{"event": "push_sent", "before_step": 2}, {"event": "signup"}]
    assert _exclusions(page) == [("1", "2"), ("1", "4")]
    note = page.inner_text("#funnel-note")
    assert "Exclusion 1 (push_sent)" in note and "step 1 (feature_used)" in note and "step 2 (login)" in note
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    want = expected_rows(query)
    assert any(r["count"] for r in want if r["step"] == 2), "a case that checks little"
    assert_shows(page, want, "funnel")


def test_removing_a_step_an_exclusion_is_bounded_by_says_so(page: Any) -> None:
    build(page, FUNNEL)
    page.click(sel("funnel.steps.3.remove"))  # payment: signup's (default) before step
    note = page.inner_text("#funnel-note")
    assert "Exclusion 2 (signup)" in note and "step 4 (payment)" in note and "before step 3 (feature_used)" in note
    assert "push_sent" not in note  # its steps (login, feature_used) are still there
    assert _exclusions(page) == [("2", "3"), ("2", "3")]


def test_the_default_window_is_left_out_of_the_url_and_an_old_url_still_loads(page: Any, server: Any) -> None:
    page.wait_for_selector("#results[data-state=done]")
    page.select_option("#analysis", "funnel")
    _, query = url_query(page)
    assert "window" not in query["funnel"]  # the default (14d), like every other default
    assert page.input_value(sel("funnel.window.amount")) == "14" and page.input_value(sel("funnel.window.unit")) == "d"
    choose(page, "funnel.window.unit", "h")
    assert url_query(page)[1]["funnel"]["window"] == "14h"
    choose(page, "funnel.window.unit", "d")  # back to the default: left out again
    assert "window" not in url_query(page)[1]["funnel"]
    # A URL written before (the window stated although the default) loads, keeps it and answers.
    old = {**FUNNEL, "funnel": {**FUNNEL["funnel"], "window": "14d"}}
    text = base64.urlsafe_b64encode(json.dumps(old).encode()).decode().rstrip("=")
    page.goto(f"{server.url}/#q={text}")
    page.wait_for_function("document.querySelector('[data-path=\"funnel.window.amount\"]') !== null")
    key, in_url = url_query(page)
    assert in_url == old  # (the page writes it back in its own JSON spelling)
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert page.input_value(sel("funnel.window.amount")) == "14"
    want = expected_rows(old)
    assert want == expected_rows(FUNNEL) and any(r["count"] for r in want if r["step"] == 2)
    assert_shows(page, want, "funnel")


def _load_url(page: Any, server: Any, query: dict[str, Any], ready: str) -> dict[str, Any]:
    text = base64.urlsafe_b64encode(json.dumps(query).encode()).decode().rstrip("=")
    page.goto(f"{server.url}/#q={text}")
    page.wait_for_function(f"document.querySelector('[data-path=\"{ready}\"]') !== null")
    return url_query(page)[1]


def test_a_stated_default_is_kept_until_its_control_is_changed(page: Any, server: Any) -> None:
    """A URL (or example) stating a default keeps it; once the person changes that control, the
    default is left out again like every default (the funnel's order, retention's controls)."""
    page.wait_for_selector("#results[data-state=done]")
    stated = {**FUNNEL, "funnel": {**FUNNEL["funnel"], "order": "ordered"}}
    assert _load_url(page, server, stated, "funnel.order") == stated
    choose(page, "funnel.order", "any")
    assert url_query(page)[1]["funnel"]["order"] == "any"
    choose(page, "funnel.order", "ordered")  # back to the default: left out
    key, in_url = url_query(page)
    assert in_url == FUNNEL
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    want = expected_rows(FUNNEL)
    assert any(r["count"] for r in want if r["step"] == 2)
    assert_shows(page, want, "funnel")
    _, _, retention = next(m for m in MENU if m[0] == "weekly_signup_retention")
    assert _load_url(page, server, retention, "retention.windows") == retention
    for path, other, default in (
        ("retention.start_mode", "recurring", "first_time"),
        ("retention.windows", "rolling", "calendar"),
    ):
        choose(page, path, other)
        choose(page, path, default)
    page.fill(sel("retention.periods"), "9")
    page.fill(sel("retention.periods"), "8")
    page.click(sel("retention.cumulative"))
    page.click(sel("retention.cumulative"))
    left = url_query(page)[1]["retention"]
    assert not {"start_mode", "periods", "windows", "cumulative"} & set(left), left
    assert retention["retention"]["periods"] == 8 and retention["retention"]["start_mode"] == "first_time"
