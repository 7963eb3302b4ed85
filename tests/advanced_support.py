"""Shared pieces of the advanced suite (``tests/test_advanced*.py``): reference times, builders of
formulas, segments and combined-event members, and ``check`` (engine against oracle, with the
known-bug list)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from tests.segmentation_cases import nontrivial

NOW = datetime(2025, 2, 20, 15, 30)  # for relative ranges on the generated data
SUBS_NOW = datetime(2021, 4, 20)
MAR = {"from": date(2025, 3, 1), "to": date(2025, 4, 1)}


def f(label: str, expression: str) -> dict[str, str]:
    return {"label": label, "expression": expression}


def did(event: Any, *where: dict[str, Any], window: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"event": event}
    if where:
        spec["where"] = list(where)
    if window is not None:
        spec["date_range"] = window
    return spec


def member(event: str, *where: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "where": list(where)}


# Known engine bugs, reported with a minimal reproduction; the case fails until fixed (strict xfail).
# Keys: (backend or "*" for every backend, case name).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def check(dataset, case: str, cases: dict[str, Any], request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    reason = KNOWN_BUGS.get((dataset.backend, case)) or KNOWN_BUGS.get(("*", case))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    query, options = cases[case]
    rows = dataset.check(query, **options)
    nontrivial(rows)
    return rows
