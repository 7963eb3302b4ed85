"""The rolling weekly (or monthly) active users on chDB at 50M events (docs/scaling.md's database): the day
bitmask lowering (``Capabilities.day_mask_bits`` = 128, ``adapters/clickhouse_masks.py``) against
the interval/window lowering (the flavor with no mask width), alternated in one process, the
answers compared.

    python -m benchmarks.chbits_wau [rounds] [weekly_active_users|monthly_active_users]
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from typing import Any

import segwise
from benchmarks.planner import _git_head
from benchmarks.planner_queries import NOW, RESULTS
from benchmarks.scaling import open_chdb, queries
from segwise.adapters.dialects import ClickHouseFlavor


def main(rounds: int = 2, name: str = "weekly_active_users") -> None:
    query = queries()[name]
    project, _reads, close = open_chdb(600.0)
    masks = ClickHouseFlavor.capabilities
    forms = {"masks": masks, "intervals": replace(masks, day_mask_bits=0)}
    times: dict[str, list[float]] = {form: [] for form in forms}
    answers: dict[str, Any] = {}
    decisions: dict[str, list[str]] = {}
    try:
        for _ in range(rounds):
            for form, capabilities in forms.items():
                ClickHouseFlavor.capabilities = capabilities  # type: ignore[misc]
                decisions[form] = [d for d in segwise.plan(query, project).decisions if "rolling" in d]
                start = time.perf_counter()
                answer = segwise.run(query, project, now=NOW, timeout=600)
                times[form].append(round(time.perf_counter() - start, 2))
                rows = sorted(json.dumps(r, default=str, sort_keys=True) for r in answer.to_pylist())
                assert answers.setdefault(form, rows) == rows
                print(form, times[form][-1], "s", len(rows), "rows", flush=True)
    finally:
        ClickHouseFlavor.capabilities = masks  # type: ignore[misc]
        close()
    identical = answers["masks"] == answers["intervals"]
    result = {
        "question": name,
        "commit": _git_head(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "seconds": times,
        "ratio_best": round(min(times["intervals"]) / min(times["masks"]), 1),
        "identical": identical,
        "rows": len(answers["masks"]),
        "decisions": decisions,
    }
    out = RESULTS / f"chbits-{name}-chdb-50m.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    assert identical, "the two lowerings disagree"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, *sys.argv[2:3])
