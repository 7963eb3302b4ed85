"""What the explorer's browser tests share (their fixtures: tests/browser_fixtures.py): driving
the builder by clicking, every analysis of the picker, and reading the chart and the table.
Screenshots of the main views go to ``docs/screenshots/`` when ``SEGWISE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

import segwise
from segwise.output import pretty_sql
from tests.explorer_support import NOW, expected_rows, same_rows

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    folder = SCREENSHOTS if os.environ.get("SEGWISE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- driving the builder -------------------------------------------------------------------------------


def sel(path: str) -> str:
    return f'[data-path="{path}"]'


def choose(page: Any, path: str, value: str) -> None:
    page.select_option(sel(path), value)


def fill(page: Any, path: str, value: Any) -> None:
    page.fill(sel(path), str(value))


def set_event(page: Any, path: str, event: Any) -> None:
    if isinstance(event, str):
        choose(page, path, event)
        return
    choose(page, path, "__combined")
    for k, member in enumerate(event["any_of"]):
        member = {"event": member} if isinstance(member, str) else member
        if k >= 2:
            page.click(sel(f"{path}.add_member"))
        choose(page, f"{path}.any_of.{k}.event", member["event"])
        for j, cond in enumerate(member.get("where", [])):
            add_filter(page, f"{path}.any_of.{k}.where", j, cond)


def set_measure(page: Any, index: int, measure: str) -> None:
    base = f"series.{index}.measure"
    name, _, arg = measure.partition(":")
    if not arg and name in ("events", "unique_users", "events_per_user", "dau", "wau", "mau"):
        choose(page, f"{base}.kind", name)
    elif name == "active_users":
        choose(page, f"{base}.kind", "active_users")
        fill(page, f"{base}.n", arg.rstrip("d"))
    elif name in ("sum", "avg", "min", "max", "median"):
        choose(page, f"{base}.kind", name)
        choose(page, f"{base}.property", arg)
    elif name[:1] == "p" and name[1:].isdigit():
        choose(page, f"{base}.kind", "pNN")
        fill(page, f"{base}.n", name[1:])
        choose(page, f"{base}.property", arg)
    else:
        choose(page, f"{base}.kind", "custom")
        fill(page, f"{base}.text", measure)


def add_filter(page: Any, base: str, index: int, cond: dict[str, Any]) -> None:
    page.click(sel(f"{base}.add"))
    path = f"{base}.{index}"
    choose(page, f"{path}.property", cond["property"])
    choose(page, f"{path}.op", cond["op"])
    if cond["op"] in ("in", "not_in"):
        fill(page, f"{path}.values", ", ".join(str(v) for v in cond["values"]))
    elif cond["op"] == "between":
        fill(page, f"{path}.values.0", cond["values"][0])
        fill(page, f"{path}.values.1", cond["values"][1])
    elif "value" in cond:
        if isinstance(cond["value"], bool):
            choose(page, f"{path}.value", "true" if cond["value"] else "false")
        else:
            fill(page, f"{path}.value", cond["value"])


def set_range(page: Any, path: str, date_range: dict[str, Any] | None) -> None:
    if date_range is None:
        choose(page, f"{path}.mode", "ever")
    elif "last" in date_range:
        choose(page, f"{path}.mode", "last")
        fill(page, f"{path}.amount", date_range["last"][:-1])
        choose(page, f"{path}.unit", date_range["last"][-1])
    else:
        choose(page, f"{path}.mode", "between")
        fill(page, f"{path}.from", date_range["from"])
        fill(page, f"{path}.to", date_range["to"])


# The analyses of the picker other than a segmentation (lifecycle, stickiness: one event with
# filters under their key; funnel and retention: their own builders).
ANALYSES = ("lifecycle", "stickiness", "funnel", "retention")


def analysis_key(query: dict[str, Any]) -> str:
    """The picker's value for a query: its analysis' key, ``series`` for a segmentation."""
    return next((key for key in ANALYSES if key in query), "series")


def build(page: Any, query: dict[str, Any]) -> None:
    """Click the query together, as a person would, starting from the page's default query."""
    key = analysis_key(query)
    if key == "series":
        build_series(page, query)
    elif key in BUILDERS:
        page.select_option("#analysis", key)
        BUILDERS[key](page, query[key])
    else:
        page.select_option("#analysis", key)
        set_event(page, f"{key}.event", query[key]["event"])
        for j, cond in enumerate(query[key].get("where", [])):
            add_filter(page, f"{key}.where", j, cond)
        if query.get("cumulative"):
            page.check("#cumulative")
    build_common(page, query)


def build_series(page: Any, query: dict[str, Any]) -> None:
    for i, series in enumerate(query["series"]):
        if i:
            page.click("#add-series")
        set_event(page, f"series.{i}.event", series["event"])
        set_measure(page, i, series.get("measure", "events"))
        if series.get("label"):
            fill(page, f"series.{i}.label", series["label"])
        if series.get("occurrence"):
            choose(page, f"series.{i}.occurrence", series["occurrence"])
            choose(page, f"series.{i}.occurrence_scope", series.get("occurrence_scope", "ever"))
        for j, cond in enumerate(series.get("where", [])):
            add_filter(page, f"series.{i}.where", j, cond)
    for n, formula in enumerate(query.get("formulas", [])):
        page.click("#add-formula")
        fill(page, f"formulas.{n}.label", formula["label"])
        fill(page, f"formulas.{n}.expression", formula["expression"])


def set_steps(page: Any, path: str, steps: list[dict[str, Any]], shown: int) -> None:
    """Event, filters and label of each step (``shown`` steps are on the page; more are added)."""
    for i, step in enumerate(steps):
        if i >= shown:
            page.click(sel(f"{path}.add_step"))
        set_event(page, f"{path}.steps.{i}.event", step["event"])
        for j, cond in enumerate(step.get("where", [])):
            add_filter(page, f"{path}.steps.{i}.where", j, cond)
        if step.get("label"):
            fill(page, f"{path}.steps.{i}.label", step["label"])


def build_funnel(page: Any, spec: dict[str, Any]) -> None:
    """Steps (two on a new funnel), window, order, exclusions, held properties."""
    set_steps(page, "funnel", spec["steps"], 2)
    window = spec.get("window", "14d")
    fill(page, "funnel.window.amount", window[:-1])
    choose(page, "funnel.window.unit", window[-1])
    choose(page, "funnel.order", spec.get("order", "ordered"))
    for i, exclusion in enumerate(spec.get("exclude", [])):
        page.click(sel("funnel.add_exclusion"))
        set_event(page, f"funnel.exclude.{i}.event", exclusion["event"])
        for j, cond in enumerate(exclusion.get("where", [])):
            add_filter(page, f"funnel.exclude.{i}.where", j, cond)
        choose(page, f"funnel.exclude.{i}.after_step", str(exclusion.get("after_step", 1)))
        choose(page, f"funnel.exclude.{i}.before_step", str(exclusion.get("before_step", len(spec["steps"]))))
    for i, name in enumerate(spec.get("hold", [])):
        page.click(sel("funnel.add_hold"))
        choose(page, f"funnel.hold.{i}", name)


def build_retention(page: Any, spec: dict[str, Any]) -> None:
    """Start and return events (with filters), cohorts, periods, windows, on or after."""
    for part in ("start", "return"):
        event = spec.get(part, spec["start"])
        event = event if isinstance(event, dict) and "event" in event else {"event": event}
        set_event(page, f"retention.{part}.event", event["event"])
        for j, cond in enumerate(event.get("where", [])):
            add_filter(page, f"retention.{part}.where", j, cond)
    choose(page, "retention.start_mode", spec.get("start_mode", "first_time"))
    fill(page, "retention.periods", spec.get("periods", 8))
    choose(page, "retention.windows", spec.get("windows", "calendar"))
    if spec.get("cumulative"):
        page.check("#retention-cumulative")


BUILDERS = {"funnel": build_funnel, "retention": build_retention}


def set_having(page: Any, path: str, having: dict[str, Any]) -> None:
    choose(page, f"{path}.measure", having["measure"])
    choose(page, f"{path}.op", having["op"])
    if having["op"] == "between":
        fill(page, f"{path}.values.0", having["values"][0])
        fill(page, f"{path}.values.1", having["values"][1])
    else:
        fill(page, f"{path}.value", having["value"])


def build_common(page: Any, query: dict[str, Any]) -> None:
    """What every analysis shares: the unit, segment (conditions with thresholds, named cohorts),
    breakdown (properties and categories), range, grain, compare."""
    if "unit" in query:
        choose(page, "unit", query["unit"])
    segment = query.get("segment") or {}
    for part in ("did", "did_not"):
        if part in segment:
            set_event(page, f"segment.{part}.event", segment[part]["event"])
            for j, cond in enumerate(segment[part].get("where", [])):
                add_filter(page, f"segment.{part}.where", j, cond)
            set_range(page, f"segment.{part}.date_range", segment[part].get("date_range"))
            if "having" in segment[part]:
                set_having(page, f"segment.{part}.having", segment[part]["having"])
    cohorts = segment.get("cohort", [])
    for i, name in enumerate([cohorts] if isinstance(cohorts, str) else cohorts):
        page.click("#add-cohort")
        choose(page, f"segment.cohort.{i}", name)
    for j, cond in enumerate(segment.get("user_where", [])):
        add_filter(page, "segment.user_where", j, cond)
    for k, name in enumerate(query.get("breakdown", [])):
        page.click("#add-breakdown")
        choose(page, f"breakdown.{k}", name)
    if query.get("breakdown_limit"):
        page.fill("#breakdown-limit", str(query["breakdown_limit"]))
    set_range(page, "date_range", query.get("date_range", {"last": "30d"}))
    page.select_option("#time-grain", query.get("time_grain", "day"))
    if query.get("compare"):
        page.check("#compare")


def url_query(page: Any) -> tuple[str, dict[str, Any]]:
    """The query in the page's URL: (its base64url key, the decoded query)."""
    params = dict(p.split("=", 1) for p in page.evaluate("location.hash").lstrip("#").split("&") if "=" in p)
    key = params["q"]
    return key, json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))


def run_with_enter(page: Any) -> str:
    page.focus("#time-grain")
    page.keyboard.press("Enter")
    key, _ = url_query(page)
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    return key


# -- reading the page ------------------------------------------------------------------------------


def table_rows(page: Any) -> list[dict[str, Any]]:
    header, cells = page.evaluate(
        """() => [
            [...document.querySelectorAll('#table thead th')].map(th => th.textContent),
            [...document.querySelectorAll('#table tbody tr')].map(tr =>
                [...tr.children].map(td => td.classList.contains('num') ? ['n', td.dataset.value]
                    : td.dataset.value !== undefined ? ['v', td.dataset.value] : ['t', td.textContent]))
        ]"""
    )
    rows = []
    for row in cells:
        record: dict[str, Any] = {}
        for name, (kind, text) in zip(header, row, strict=True):
            if kind == "n":
                record[name] = json.loads(text)
            elif kind == "v":
                record[name] = text
            else:
                record[name] = None if text == "∅" else text
        rows.append(record)
    return rows


def chart_points(page: Any) -> dict[tuple[str, str], Any]:
    """(legend name, x category) -> value, as drawn."""
    option = page.evaluate(
        "() => { const o = segwise.chart.getOption(); "
        "return {x: o.xAxis[0].data, series: o.series.map(s => ({name: s.name, data: s.data}))}; }"
    )
    return {
        (s["name"], x): value
        for s in option["series"]
        for x, value in zip(option["x"], s["data"], strict=True)
        if value is not None
    }


def _bucket_text(rows: list[dict[str, Any]]) -> Any:
    with_time = any(r["bucket"][11:16] != "00:00" for r in rows)
    return lambda r: r["bucket"][:10] + (" " + r["bucket"][11:16] if with_time else "")


def _group_text(rows: list[dict[str, Any]], own: tuple[str, ...]) -> tuple[list[str], Any]:
    groups = [c for c in rows[0] if c not in ("bucket", *own)] if rows else []
    return groups, lambda r: " / ".join("∅" if r[c] is None else str(r[c]) for c in groups)


def lifecycle_points(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """Stacked bars per bucket, one per status (per group: "group · status"), dormant below zero."""
    groups, group = _group_text(rows, ("status", "value"))
    x = _bucket_text(rows)
    return {
        (f"{group(r)} · {r['status']}" if groups else r["status"], x(r)): -r["value"]
        if r["status"] == "dormant"
        else r["value"]
        for r in rows
    }


def stickiness_points(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """Bars per number of days (the x axis), one bar series per bucket (and group: "bucket · group")."""
    groups, group = _group_text(rows, ("days", "value"))
    x = _bucket_text(rows)
    return {(x(r) + (f" · {group(r)}" if groups else ""), str(r["days"])): r["value"] for r in rows}


FUNNEL_OWN = ("step", "step_label", "count", "conversion", "from_previous", "median_seconds", "avg_seconds")


def funnel_points(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """One entry bucket: per step ("1. view") and group a bar of the units converted and one of
    those dropped off since step 1. Several: per step after the first (and group) a line of the
    conversion per entry bucket."""
    groups, group = _group_text(rows, FUNNEL_OWN)
    prefix = (lambda r: f"{group(r)} · ") if groups else (lambda r: "")
    if len({r["bucket"] for r in rows}) <= 1:
        first = {group(r): r["count"] for r in rows if r["step"] == 1}
        points = {}
        for r in rows:
            step = f"{r['step']}. {r['step_label']}"
            points[(prefix(r) + "converted", step)] = r["count"]
            points[(prefix(r) + "dropped off", step)] = first[group(r)] - r["count"]
        return points
    x = _bucket_text(rows)
    return {
        (prefix(r) + f"{r['step']}. {r['step_label']}", x(r)): r["conversion"]
        for r in rows
        if r["step"] > 1 and r["conversion"] is not None
    }


def retention_points(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """The summary curve: the summary rows' rate per period, one line per group ("retention")."""
    groups, group = _group_text(rows, ("cohort", "period", "count", "cohort_size", "rate"))
    return {
        (group(r) if groups else "retention", str(r["period"])): r["rate"]
        for r in rows
        if r["cohort"] is None and r["rate"] is not None
    }


def expected_points(rows: list[dict[str, Any]], kind: str = "series") -> dict[tuple[str, str], Any]:
    """What the chart must draw for these rows (the rules of engine/web/chart*.js)."""
    if kind != "series":
        kinds = {
            "lifecycle": lifecycle_points,
            "stickiness": stickiness_points,
            "funnel": funnel_points,
            "retention": retention_points,
        }
        return kinds[kind](rows)
    groups = [c for c in rows[0] if c not in ("bucket", "series", "value")] if rows else []
    labels = list(dict.fromkeys(r["series"] for r in rows))
    total = len({r["bucket"] for r in rows}) <= 1
    with_time = any(r["bucket"][11:16] != "00:00" for r in rows)

    def group(r: dict[str, Any]) -> str:
        return " / ".join("∅" if r[c] is None else str(r[c]) for c in groups)

    points = {}
    for r in rows:
        if r["value"] is None:
            continue
        if total:
            points[(r["series"], group(r) if groups else r["series"])] = r["value"]
        else:
            name = r["series"] if not groups else (f"{r['series']} · {group(r)}" if len(labels) > 1 else group(r))
            x = r["bucket"][:10] + (" " + r["bucket"][11:16] if with_time else "")
            points[(name, x)] = r["value"]
    return points


def assert_shows(page: Any, want: list[dict[str, Any]], kind: str = "series") -> None:
    got = table_rows(page)
    assert same_rows(got, want), (got[:4], want[:4])
    drawn = chart_points(page)
    expected = expected_points(want, kind)
    assert drawn.keys() == expected.keys()
    for key, value in expected.items():
        assert drawn[key] == pytest.approx(value, rel=1e-9), key
    assert page.locator("#chart svg").count() == 1
    first_name = next(iter(expected))[0] if expected else None
    if first_name is not None:
        assert page.locator("#chart svg text", has_text=first_name).count() >= 1  # the legend


def expected_sql(project_file: Path, query: dict[str, Any], dialect: str | None = None) -> str:
    """What the explorer shows: the SQL to paste (``segwise sql``), which answers as ``run``."""
    from segwise.present import paste_statement
    from segwise.registry import get_flavor

    with segwise.Project.load(project_file) as project:
        compiled = segwise.compile_query(project, query, dialect=dialect, now=NOW)
        return pretty_sql(paste_statement(compiled, get_flavor(compiled.dialect)), compiled.dialect)


def wait_sql(page: Any, key: str, dialect: str) -> str:
    page.wait_for_selector(f'#sql[data-state=done][data-key="{key}"][data-dialect="{dialect}"]')
    return str(page.inner_text("#sql"))


def shows_oracle(page: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Build ``query`` by clicking, run it, check the page shows the reference's rows; return them."""
    build(page, query)
    _, in_url = url_query(page)
    assert in_url == query  # the clicks made exactly this query
    run_with_enter(page)
    want = expected_rows(query)
    assert_shows(page, want, analysis_key(query))
    return want


def plot_points(browser: Any, server: Any, query: dict[str, Any], tmp_path: Path) -> dict[tuple[str, str], Any]:
    """What ``segwise run --plot``'s page draws for ``query`` (it tells the analysis from the
    rows' columns): (legend name, x category) -> value."""
    from segwise.plot import chart_html

    path = tmp_path / "plot.html"
    path.write_text(chart_html(segwise.run(query, server.project, now=NOW), title="plot"), encoding="utf-8")
    page = browser.new_page()
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready=true]")
        option = page.evaluate(
            "() => { const o = chart.getOption(); "
            "return {x: o.xAxis[0].data, series: o.series.map(s => ({name: s.name, data: s.data}))}; }"
        )
    finally:
        page.close()
    series = option["series"]
    return {(s["name"], x): v for s in series for x, v in zip(option["x"], s["data"], strict=True) if v is not None}
