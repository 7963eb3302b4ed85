"""The explorer's unit picker (``unit:``), in headless Chromium: the catalog lists the project's
units, every analysis offers them (segmentation, lifecycle, stickiness, funnel, retention: each
takes ``unit``), the choice lives in the URL and survives switching analyses, and queries built by
clicking with ``unit: account`` show what the plain-Python references answer with the unit read
as tests/oracle_units.py reads it (tests/explorer_support.expected_rows) — never segwise's own
answer. The gallery's "active accounts per license type" is built by clicking in
tests/test_browser.py like every gallery question. User property filters of the segment are
offered only when counting users.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import ANALYSES, analysis_key, choose, sel, shows_oracle, url_query
from tests.explorer_support import UNITS, expected_rows, gallery_queries

# The fixtures browser, project_file, server and page.
pytest_plugins = ["tests.browser_fixtures"]

WEEKS_6 = {"from": "2025-05-12", "to": "2025-06-23"}
QUERIES: dict[str, dict[str, Any]] = {
    "series_by_license": {
        "series": [{"event": "login", "measure": "unique_users"}],
        "unit": "account",
        "date_range": WEEKS_6,
        "time_grain": "week",
        "breakdown": ["license_type"],
    },
    "lifecycle": {"lifecycle": {"event": "login"}, "unit": "account", "date_range": WEEKS_6, "time_grain": "week"},
    "stickiness": {
        "stickiness": {"event": "page_view"},
        "unit": "account",
        "date_range": WEEKS_6,
        "time_grain": "week",
    },
    "funnel": {
        "funnel": {"steps": [{"event": "login"}, {"event": "feature_used"}, {"event": "payment"}], "window": "7d"},
        "unit": "account",
        "date_range": {"last": "8w"},
        "time_grain": "total",
    },
    "retention": {
        "retention": {"start": {"event": "login"}, "return": {"event": "any"}, "periods": 4},
        "unit": "account",
        "date_range": {"last": "8w"},
        "time_grain": "week",
    },
}


def test_the_catalog_lists_the_projects_units(page: Any) -> None:
    catalog = page.evaluate("fetch('api/catalog').then(r => r.json())")
    assert catalog["units"] == [{"name": name, "property": prop} for name, prop in sorted(UNITS.items())]


def test_every_analysis_offers_the_units_and_keeps_the_choice(page: Any) -> None:
    page.wait_for_selector("#results[data-state=done]")
    assert page.is_visible(sel("unit")) and page.input_value(sel("unit")) == "user"
    _, query = url_query(page)
    assert "unit" not in query  # users: the default, not written
    choose(page, "unit", "account")
    for key in ("series", *ANALYSES, "series"):
        page.select_option("#analysis", key)
        offered = page.eval_on_selector_all(f"{sel('unit')} option", "os => os.map(o => o.value)")
        assert offered == ["user", *sorted(UNITS)], key
        assert page.input_value(sel("unit")) == "account", key  # kept across the switch
        _, query = url_query(page)
        assert analysis_key(query) == key and query["unit"] == "account"
    choose(page, "unit", "user")
    _, query = url_query(page)
    assert "unit" not in query


@pytest.mark.parametrize("name", list(QUERIES))
def test_a_unit_picked_by_clicking(page: Any, name: str) -> None:
    query = QUERIES[name]
    want = shows_oracle(page, query)  # built by clicking (the unit too), run, compared with the reference
    per_user = expected_rows({k: v for k, v in query.items() if k != "unit"})
    assert want != per_user, "counting accounts must answer differently from counting users here"
    numbers = [r.get("value", r.get("count")) for r in want]
    assert any(numbers), "a case that checks little"


def test_the_gallerys_account_example_counts_accounts() -> None:
    """The gallery has "active accounts per license type", counting accounts (unit) per license type."""
    found = [(q, query) for n, q, query in gallery_queries() if n == "active_accounts_per_license_type"]
    assert len(found) == 1
    question, query = found[0]
    assert question == "Active accounts per license type"
    assert query["unit"] == "account" and query["breakdown"] == ["license_type"]
    want = expected_rows(query)
    assert want != expected_rows({k: v for k, v in query.items() if k != "unit"})
    assert len({r["license_type"] for r in want if r["value"]}) >= 2


def test_user_filters_are_offered_only_when_counting_users(page: Any) -> None:
    """``segment.user_where`` is refused for units other than ``user`` (the contract): with another
    unit the segment offers no user filter; one already there says before running that it is
    refused, and the run's error names where."""
    page.wait_for_selector("#results[data-state=done]")
    assert page.locator(sel("segment.user_where.add")).count() == 1  # users: offered
    choose(page, "unit", "account")
    assert page.locator(sel("segment.user_where.add")).count() == 0
    assert "when counting users" in page.inner_text("#user-where-note")
    choose(page, "unit", "user")
    page.click(sel("segment.user_where.add"))
    choose(page, "segment.user_where.0.property", "country")
    page.fill(sel("segment.user_where.0.value"), "US")
    choose(page, "unit", "account")  # a filter already there: kept to remove, refused in words first
    note = page.inner_text("#user-where-note")
    assert "segment > user_where" in note and "account" in note
    assert page.locator(sel("segment.user_where.add")).count() == 0
    key, _ = url_query(page)
    page.wait_for_selector(f'#results[data-state=error][data-key="{key}"]')
    text = page.inner_text("#error")
    assert "segment > user_where[0]" in text and "account" in text
    page.click('[aria-label="Remove User property filter 1"]')
    key, query = url_query(page)
    assert "segment" not in query and query["unit"] == "account"
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    note = page.inner_text("#user-where-note")
    assert "segment > user_where" not in note and "when counting users" in note
