"""``segwise demo``'s compact summary of every kind of answer: a segmentation's rows ranked by their
sum, a lifecycle's statuses and a stickiness' days in the answer's order, each with its latest
buckets — the numbers shown must be the plain-Python references' (tests/oracle_*.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import yaml
from rich.console import Console

import segwise
from segwise.demo.gallery import examples_dir, summary
from tests.explorer_support import NOW, expected_rows, make_demo, plain


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[segwise.Project]:
    with segwise.Project.load(make_demo(tmp_path_factory.mktemp("summary"))) as opened:
        yield opened


def shown(project: segwise.Project, name: str, max_rows: int = 6) -> tuple[list[str], dict[str, Any]]:
    """The summary's lines (as a terminal prints them) for a gallery file, and its query."""
    path = examples_dir() / f"{name}.yaml"
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(summary(segwise.run(path, project, now=NOW), max_rows=max_rows))
    lines = [line.rstrip() for line in console.export_text().splitlines() if line.strip()]
    return lines, plain(yaml.safe_load(path.read_text(encoding="utf-8")))


def latest(rows: list[dict[str, Any]], column: str, count: int) -> dict[str, list[tuple[str, int]]]:
    """Per label, its last ``count`` buckets as the summary writes them ("Jun 23") with the value."""
    out: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        stamp = f"{datetime.fromisoformat(row['bucket']):%b %d}"
        out.setdefault(str(row[column]), []).append((stamp, row["value"]))
    return {label: cells[-count:] for label, cells in out.items()}


def cells_of(line: str) -> tuple[str, list[tuple[str, int]]]:
    label, _, rest = line.strip().partition(" ")
    return label, [(m[0], int(m[1].replace(",", ""))) for m in re.findall(r"(\w{3} \d{2}): ([\d,]+)", rest)]


def test_lifecycle_statuses_in_order_with_the_reference_values(project: segwise.Project) -> None:
    lines, query = shown(project, "weekly_lifecycle")
    assert lines[0].split() == ["status", "latest", "buckets"]
    want = latest(expected_rows(query), "status", 3)
    got = dict(cells_of(line) for line in lines[1:])
    assert list(got) == ["new", "returning", "resurrecting", "dormant"]
    assert got == want
    assert all(v > 0 for cells in want.values() for _, v in cells), "a case that checks little"


def test_stickiness_days_ascending_with_the_reference_values(project: segwise.Project) -> None:
    lines, query = shown(project, "weekly_stickiness", max_rows=7)
    assert lines[0].split() == ["days", "latest", "buckets"]
    want = latest(expected_rows(query), "days", 3)
    got = dict(cells_of(line) for line in lines[1:])
    assert list(got) == [str(d) for d in range(1, 8)]
    assert got == want
    assert sum(v for d in ("2", "3", "4") for _, v in want[d]) > 0, "a case that checks little"
    # Fewer rows than days: the rest is counted.
    lines, _ = shown(project, "weekly_stickiness", max_rows=6)
    assert lines[-1].split() == ["…", "1", "more"]


def test_a_segmentation_is_still_ranked_by_its_sum(project: segwise.Project) -> None:
    lines, query = shown(project, "users_by_country")
    want = expected_rows(query)
    ranked = sorted(want, key=lambda r: -r["value"])
    assert lines[0].split() == ["country", "series", "value"]
    assert [line.split()[2] for line in lines[1:4]] == [str(r["value"]) for r in ranked[:3]]


def test_a_funnel_shows_each_steps_count_and_conversion(project: segwise.Project) -> None:
    lines, query = shown(project, "advanced/view_pricing_purchase", max_rows=12)
    want = expected_rows(query)
    assert lines[0].split() == ["country", "step", "value"]
    expected = []
    for r in want[:12]:
        rate = [] if r["conversion"] is None else [f"{r['conversion']:.0%}"]
        expected.append([r["country"], f"{r['step']}.", r["step_label"], *rate, f"{r['count']:,}"])
    assert [line.split() for line in lines[1:13]] == expected
    assert any(r["step"] == 3 and r["count"] > 0 for r in want), "a case that checks little"


def test_a_retention_shows_its_summary_rows(project: segwise.Project) -> None:
    lines, query = shown(project, "retention/weekly_signup_retention", max_rows=9)
    want = [r for r in expected_rows(query) if r["cohort"] is None]
    assert lines[0].split() == ["period", "retained", "(all", "cohorts)"]
    expected = [
        [
            str(r["period"]),
            "-" if r["rate"] is None else f"{r['rate']:.1%}",
            f"({r['count']:,}",
            "of",
            f"{r['cohort_size']:,})",
        ]
        for r in want
    ]
    assert [line.split() for line in lines[1:]] == expected
    assert len(want) == 9 and 0 < want[1]["count"] < want[0]["count"], "a case that checks little"
