"""Named cohorts, `having` thresholds and categories in the explorer, in headless Chromium: the
segment editor offers the project's cohorts (from /api/catalog) and thresholds on did / did not,
the breakdown picker offers the project's categories like properties; segmentations built by
clicking must show what the plain-Python reference (tests/oracle.py with tests/oracle_cohorts.py,
given the demo project's cohorts and categories) answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import screenshot, sel, shows_oracle
from tests.explorer_support import CATEGORIES, COHORTS

# The fixtures browser, project_file, server and page.
pytest_plugins = ["tests.browser_fixtures"]

QUERIES: dict[str, dict[str, Any]] = {
    "active_days_threshold_by_engagement": {
        "series": [{"event": "any", "measure": "unique_users"}],
        "segment": {
            "did": {
                "event": "feature_used",
                "date_range": {"last": "30d"},
                "having": {"measure": "active_days", "op": "gte", "value": 3},
            }
        },
        "breakdown": ["engagement"],
        "date_range": {"last": "6w"},
        "time_grain": "week",
    },
    "cohort_without_small_payers": {
        "series": [{"event": "login", "measure": "unique_users"}],
        "segment": {
            "cohort": "buyers",
            "did_not": {"event": "payment", "having": {"measure": "sum:amount", "op": "between", "values": [1, 60]}},
        },
        "date_range": {"last": "8w"},
        "time_grain": "week",
    },
    "two_cohorts_by_engagement_total": {
        "series": [{"event": "page_view", "measure": "events"}],
        "segment": {"cohort": ["buyers", "power_users"]},
        "breakdown": ["engagement"],
        "date_range": {"last": "30d"},
        "time_grain": "total",
    },
}


def test_catalog_offers_the_projects_cohorts_and_categories(page: Any) -> None:
    catalog = page.evaluate("fetch('api/catalog').then(r => r.json())")
    assert catalog["cohorts"] == sorted(COHORTS)
    assert catalog["categories"] == [
        {"name": name, "labels": [g["label"] for g in c["of"]] + [c.get("else", "other")]}
        for name, c in CATEGORIES.items()
    ]
    page.click("#add-cohort")
    offered = page.eval_on_selector_all(f"{sel('segment.cohort.0')} option", "os => os.map(o => o.value)")
    assert offered == ["", *sorted(COHORTS)]
    page.click("#add-breakdown")
    offered = page.eval_on_selector_all(f"{sel('breakdown.0')} option", "os => os.map(o => o.value)")
    assert "engagement" in offered and "country" in offered
    # Lifecycle takes user properties and categories (a unit's category is decided once per query).
    page.select_option("#analysis", "lifecycle")
    page.click("#add-breakdown")
    offered = page.eval_on_selector_all(f"{sel('breakdown.0')} option", "os => os.map(o => o.value)")
    assert "engagement" in offered and "platform" not in offered


@pytest.mark.parametrize("name", list(QUERIES))
def test_segmentation_in_cohorts_built_by_clicking(page: Any, tmp_path: Path, name: str) -> None:
    query = QUERIES[name]
    want = shows_oracle(page, query)
    values = [r["value"] for r in want if r["value"]]
    assert values, "an empty answer checks little"
    if "engagement" in query.get("breakdown", []):
        shown = list(dict.fromkeys(r["engagement"] for r in want))
        order = [g["label"] for g in CATEGORIES["engagement"]["of"]] + [CATEGORIES["engagement"]["else"]]
        assert len(shown) >= 2 and shown == [label for label in order if label in shown]  # declaration order
    if name == "active_days_threshold_by_engagement":
        screenshot(page, "explorer-cohorts", tmp_path)
