"""The 50M comparison's bookkeeping (``benchmarks/scaling.py``), without engines: its queries are
the ones docs/scaling.md names, and a time is reported only for an answer equal to the first
engine's."""

from __future__ import annotations

from typing import Any

from benchmarks import scaling
from benchmarks.planner_queries import gallery_queries


def test_the_queries() -> None:
    queries = scaling.queries()
    gallery = gallery_queries()
    assert set(scaling.FIRST) <= set(gallery)
    assert all(queries[name] == gallery[name] for name in gallery)  # all 23 of the gallery
    assert len(gallery) == 23
    funnel = queries["funnel_4_steps_30d"]["funnel"]
    assert [s["event"] for s in funnel["steps"]] == ["login", "page_view", "feature_used", "purchase"]
    assert funnel["window"] == "7d"
    assert queries["retention_weekly_signups_12w"]["retention"] == {"start": "signup", "return": "any", "periods": 12}
    assert queries["lifecycle_weekly_12w"]["lifecycle"] == {"event": "login"}
    assert queries["lifecycle_weekly_12w"]["time_grain"] == "week"
    assert len(queries) == len(gallery) + 3
    first, rest = scaling.selected("first"), scaling.selected("rest")
    assert first == list(queries)[:12] and first[9:] == list(scaling.ANALYSES)
    assert sorted(first + rest) == sorted(queries) and not set(first) & set(rest)
    assert scaling.selected("total_signups,rest")[0] == "total_signups"


def _cell(seconds: float, rows: int) -> dict[str, Any]:
    return {"median_s": seconds, "rows": rows, "reads": {"rows_read": 2_000_000, "parts_read": 1, "parts": 12}}


def test_a_different_answer_is_not_timed() -> None:
    rows = [{"bucket": "2025-12-01T00:00:00", "value": 10}, {"bucket": "2025-12-02T00:00:00", "value": 0.5}]
    close = [dict(rows[0]), {"bucket": "2025-12-02T00:00:00", "value": 0.5 + 1e-12}]  # float noise: the same
    wrong = [dict(rows[0]), {"bucket": "2025-12-02T00:00:00", "value": 0.75}]
    load = {"load_before": [30.0, 0, 0], "load_after": [31.0, 0, 0]}
    report: dict[str, Any] = {
        "queries": {"daily_active_users": {}, "total_signups": {}},
        "engines": {
            "duckdb": {"queries": {"daily_active_users": _cell(1.5, 2), "total_signups": _cell(0.25, 2)}, **load},
            "chdb": {"queries": {"daily_active_users": _cell(2.5, 2), "total_signups": _cell(4.0, 2)}, **load},
        },
    }
    answers = {
        "duckdb": {"daily_active_users": rows, "total_signups": rows},
        "chdb": {"daily_active_users": close, "total_signups": wrong},
    }
    scaling.compare(report, answers)
    chdb = report["engines"]["chdb"]["queries"]
    assert chdb["daily_active_users"]["same"] is True and chdb["daily_active_users"]["same_as"] == "duckdb"
    assert chdb["total_signups"]["same"] is False
    assert chdb["total_signups"]["first_difference"] == [wrong[1], rows[1]]
    text = scaling.markdown(report)
    assert "| total_signups | 2 | 0.25 | differs |" in text
    assert "| daily_active_users | 2 | 1.50 | 2.50 |" in text
    assert "| **total** | | **1.5** | **2.5** |" in text  # only what both answered alike: not total_signups
    assert "4.00" not in text
