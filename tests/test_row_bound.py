"""The plan's bound on a statement's rows (``segwise.plan_bound``) and the row guard's LIMIT.

The bound must never be below the rows the warehouse really returns (a query is run and the raw,
unshaped answer counted: the oracle is the warehouse's own row count, not the bound's formula);
where it is within ``MAX_RESULT_ROWS`` the statement is sent without ``LIMIT``, elsewhere with
``LIMIT MAX_RESULT_ROWS + 1`` and a too-big answer is still refused."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest

from segwise import dispatch
from segwise.errors import SpecError, UnsupportedError
from segwise.pipeline import compile_query
from tests.segmentation_cases import GENERATED_RANDOM, random_query
from tests.test_funnel import CASES as FUNNELS
from tests.test_funnel import random_query as random_funnel
from tests.test_lifecycle import CASES as LIFECYCLE
from tests.test_retention import CASES, RANDOM
from tests.test_stickiness import CASES as STICKINESS

NOW = datetime(2025, 2, 20)
SEGMENTATIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    random_query(random.Random(seed), **GENERATED_RANDOM) for seed in range(40)
]
SEGMENTATIONS += [
    (
        {"series": [{"event": "login"}, {"event": "purchase", "measure": m}], "date_range": rng, "time_grain": g},
        {"now": NOW},
    )
    for m in ("unique_users", "sum:revenue", "events_per_user", "dau", "median:revenue")
    for g, rng in (("day", {"last": "30d"}), ("hour", {"last": "3d"}), ("total", {"last": "1m"}))
]
for seed in range(100, 160):  # breakdowns with top-N: Other in the statement
    query, options = random_query(random.Random(seed), **GENERATED_RANDOM)
    if query.get("breakdown"):
        SEGMENTATIONS.append(({**query, "breakdown_limit": 1 + seed % 3}, options))
SEGMENTATIONS.append(
    ({"series": [{"event": "login"}], "date_range": {"last": "2w"}, "time_grain": "day", "compare": True}, {"now": NOW})
)


def _sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements dispatch sends, as sent (observed at ``execute_observed``)."""
    sent: list[str] = []
    real = dispatch.execute_observed

    def spy(adapter: Any, sql: str, **kwargs: Any) -> Any:
        sent.append(sql)
        return real(adapter, sql, **kwargs)

    monkeypatch.setattr(dispatch, "execute_observed", spy)
    return sent


def _checked(project: Any, query: dict[str, Any], now: datetime | None) -> tuple[bool, int | None]:
    """Run ``query`` and check its plan's bound against the raw answer's rows: (ran, the bound);
    not ran where the engine declares it cannot answer."""
    try:
        compiled = compile_query(project, query, now=now)
        rows = dispatch.execute_compiled(project, compiled, cache=False).num_rows
    except (SpecError, UnsupportedError):  # a declared gap of this engine
        return False, None
    assert compiled.max_rows is None or rows <= compiled.max_rows, (query, rows, compiled.max_rows)
    return True, compiled.max_rows


def test_retention_bound_is_never_below_the_rows(generated: Any) -> None:
    project = generated.project("UTC", "monday")
    bounded = 0
    for query, now, options in [*CASES.values(), *[(q, n, {}) for q, n in RANDOM]]:
        ran, bound = _checked(project, query, now) if not options else (False, None)
        if ran:
            assert (bound is None) == bool(query.get("breakdown")), query
            bounded += bound is not None
    assert bounded >= 5


def test_segmentation_bound_is_never_below_the_rows(generated: Any) -> None:
    bounded = topn = 0
    for query, options in SEGMENTATIONS:
        project = generated.project(options.get("timezone", "UTC"), options.get("week_start", "monday"))
        _ran, bound = _checked(project, query, options["now"])
        if query.get("breakdown") and query.get("breakdown_limit") is None:
            assert bound is None
        bounded += bound is not None
        topn += bound is not None and bool(query.get("breakdown"))
    assert bounded >= 10 and topn >= 5


@pytest.mark.parametrize("cases", [LIFECYCLE, STICKINESS], ids=["lifecycle", "stickiness"])
def test_lifecycle_and_stickiness_bounds_are_never_below_the_rows(generated: Any, cases: dict[str, Any]) -> None:
    bounded = 0
    for query, options in cases.values():
        project = generated.project(options.get("timezone", "UTC"), options.get("week_start", "monday"))
        ran, bound = _checked(project, query, NOW)
        assert not ran or (bound is None) == bool(query.get("breakdown")), query
        bounded += bound is not None
    assert bounded >= 5


def test_funnel_bound_is_never_below_the_rows(generated: Any) -> None:
    project = generated.project()
    bounded = 0
    for query in [*FUNNELS.values(), *[random_funnel(seed) for seed in range(20)]]:
        ran, bound = _checked(project, query, None)
        assert not ran or (bound is None) == bool(query.get("breakdown")), query
        bounded += bound is not None
    assert bounded >= 5


def test_bounded_statement_is_sent_without_limit(generated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if generated.backend != "duckdb":
        pytest.skip("what is sent is the same logic on every engine")
    project = generated.project("UTC", "monday")
    sent = _sent(monkeypatch)
    query = {
        "retention": {"start": "purchase", "start_mode": "recurring", "periods": 10},
        "time_grain": "day",
        "date_range": {"from": "2025-01-20", "to": "2025-02-10"},
    }
    compiled = compile_query(project, query, now=NOW)
    assert compiled.max_rows is not None and compiled.max_rows <= dispatch.MAX_RESULT_ROWS
    dispatch.execute_compiled(project, compiled, cache=False)
    assert sent == [compiled.sql] and "LIMIT" not in sent[0].upper()
    assert dispatch.guard_limit(compiled) == (
        False,
        f"not sent: the plan bounds the answer to {compiled.max_rows:,} rows <= 1,000,000",
    )
    by_country = {**query, "breakdown": ["country"]}
    compiled = compile_query(project, by_country, now=NOW)
    assert compiled.max_rows is None
    dispatch.execute_compiled(project, compiled, cache=False)
    assert sent[-1].endswith(" LIMIT 1000001")


def test_a_bound_above_the_guard_sends_the_limit_and_refuses(generated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the guard lowered below the bound the LIMIT is sent and a too-big answer refused;
    with the bound within it, nothing is limited and the answer is whole."""
    if generated.backend != "duckdb":
        pytest.skip("what is sent is the same logic on every engine")
    project = generated.project("UTC", "monday")
    query = {
        "series": [{"event": "any"}],
        "date_range": {"from": "2025-01-01", "to": "2025-01-10"},
        "time_grain": "hour",
    }
    compiled = compile_query(project, query, now=NOW)
    assert compiled.max_rows == 9 * 24
    sent = _sent(monkeypatch)
    monkeypatch.setattr(dispatch, "MAX_RESULT_ROWS", 100)
    with pytest.raises(SpecError, match="more than 100 rows"):
        dispatch.execute_compiled(project, compiled, cache=False)
    assert sent[-1].endswith(" LIMIT 101")
    monkeypatch.setattr(dispatch, "MAX_RESULT_ROWS", 9 * 24)
    assert dispatch.execute_compiled(project, compiled, cache=False).num_rows > 100
    assert "LIMIT" not in sent[-1].upper()
