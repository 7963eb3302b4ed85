"""``examples/advanced/shop/``: the view -> cart -> purchase funnels on the real shop sample.

The folder's project reads ``shop_events.csv.gz`` (the pinned ``simple.csv``, gzipped) as a
``file:`` table. Expected answers come from a plain-Python reading of the CSV written from the
contract (ANALYSES.md, "Funnels"): every view in the range starts an attempt, each next step is
the earliest matching event strictly later and at most the window after the view (with ``hold``:
the same non-empty product id), the best attempt reaches furthest, ties to the latest start, then
to the earliest matched times. The same queries also run on the ``simple`` dataset (the same CSV)
on every live engine.
"""

from __future__ import annotations

import csv
import gzip
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import segwise
from tests.test_files import SAMPLES

SHOP = Path(__file__).resolve().parent.parent / "examples" / "advanced" / "shop"
EXAMPLES = sorted(p for p in SHOP.glob("*.yaml") if p.name != "segwise.yaml")
TIME = "%Y-%m-%d %H:%M:%S"
Step = tuple[datetime, str, str]  # time, event type, product id


def shop_rows() -> dict[str, list[Step]]:
    """The CSV's events per user, in file order (the file is sorted by time)."""
    per_user: dict[str, list[Step]] = defaultdict(list)
    with open(SAMPLES / "simple.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            when = datetime.strptime(row["event_time"], TIME)
            per_user[row["user_id"]].append((when, row["event_type"], row["product-id"]))
    return per_user


def greedy(events: list[Step], start: Step, steps: list[str], window: timedelta, hold: bool) -> list[datetime]:
    """The matched times of the attempt starting at ``start``: each next step the earliest event
    strictly after the previous match and at most ``window`` after the start."""
    matched = [start[0]]
    for step in steps[1:]:
        later = [
            t
            for t, name, product in events
            if name == step and matched[-1] < t <= start[0] + window and (not hold or product == start[2])
        ]
        if not later:
            break
        matched.append(min(later))
    return matched


def expected_funnel(query: dict[str, Any]) -> list[dict[str, Any]]:
    """count, median and average seconds per step, from the best attempt of every user."""
    spec = query["funnel"]
    steps = [s["event"] for s in spec["steps"]]
    hours = int(spec["window"].removesuffix("h"))
    hold = spec.get("hold") == ["product-id"]
    start, end = (datetime.fromisoformat(str(query["date_range"][k])) for k in ("from", "to"))
    best: list[list[datetime]] = []
    for events in shop_rows().values():
        attempts = [
            greedy(events, e, steps, timedelta(hours=hours), hold)
            for e in events
            if e[1] == steps[0] and start <= e[0] < end and (not hold or e[2] != "")
        ]
        if attempts:  # furthest, then the latest start, then the earliest matched times
            best.append(min(attempts, key=lambda a: (-len(a), -a[0].timestamp(), [t.timestamp() for t in a[1:]])))
    rows = []
    for k in range(1, len(steps) + 1):
        seconds = [(a[k - 1] - a[k - 2]).total_seconds() for a in best if len(a) >= k and k > 1]
        rows.append(
            {
                "step": k,
                "count": sum(1 for a in best if len(a) >= k),
                "median_seconds": statistics.median(seconds) if seconds else None,
                "avg_seconds": statistics.fmean(seconds) if seconds else None,
            }
        )
    return rows


def close(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert (g["step"], g["count"]) == (w["step"], w["count"])
        for key in ("median_seconds", "avg_seconds"):
            assert (g[key] is None) == (w[key] is None) and (w[key] is None or g[key] == pytest.approx(w[key])), key


def load(path: Path) -> dict[str, Any]:
    query = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(query, dict)
    return query


def test_the_shop_file_is_the_pinned_sample() -> None:
    with gzip.open(SHOP / "shop_events.csv.gz", "rb") as handle:
        assert handle.read() == (SAMPLES / "simple.csv").read_bytes()


def test_there_are_both_examples_and_they_are_not_trivial() -> None:
    assert [p.stem for p in EXAMPLES] == ["view_cart_purchase", "view_cart_purchase_same_product"]
    plain, same = (expected_funnel(load(p)) for p in EXAMPLES)
    assert [r["count"] for r in plain][-1] > 0 and [r["count"] for r in same][-1] > 0
    assert plain[1]["count"] > same[1]["count"], "holding the product changes nothing: a case that checks little"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_shop_example_answers_as_the_csv_says(path: Path) -> None:
    with segwise.Project.load(SHOP / "segwise.yaml") as project:
        table = project.run(load(path))
    got = table.to_pylist()
    assert [r["step_label"] for r in got] == ["view", "cart", "purchase"]
    close(got, expected_funnel(load(path)))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_shop_funnels_on_every_engine(simple: Any, path: Path) -> None:
    if simple.backend == "spark" and path.stem != "view_cart_purchase_same_product":
        pytest.skip("Spark runs one shop funnel (one JVM per session)")
    query = load(path)
    close(segwise.run(query, simple.project()).to_pylist(), expected_funnel(query))
