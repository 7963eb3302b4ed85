"""The explorer page in headless Chromium: every gallery question is built by clicking, and the
chart, the table and the SQL panel must show the oracle's answer; a reload from the URL shows it
again. Also: an advanced query (combined event, filters, formula, top-N breakdown, segment,
compare), the dialect switch, keyboard use, errors and cancelling a long query.

Needs Debian's Chromium (``apt-get install chromium``) and the ``playwright`` package (the
browser is launched by path; no browser download). Outside CI the tests skip with the reason when
either is missing; with ``SEGWISE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.
Screenshots of the main views go to ``docs/screenshots/`` when ``SEGWISE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import segwise
from segwise.output import pretty_sql
from segwise.plot import find_chromium
from tests.explorer_support import NOW, expected_rows, gallery_queries, live_server, make_demo, same_rows

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("SEGWISE_REQUIRE_BROWSER") == "1"
SCREENSHOTS = ROOT / "docs" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GALLERY = gallery_queries()


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install -y chromium, or set SEGWISE_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"SEGWISE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def server(project_file: Path) -> Iterator[Any]:
    with live_server(project_file) as live:
        yield live


@pytest.fixture
def page(browser: Any, server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()
    assert not errors, errors


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


def build(page: Any, query: dict[str, Any]) -> None:
    """Click the query together, as a person would, starting from the page's default query."""
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
    segment = query.get("segment") or {}
    for part in ("did", "did_not"):
        if part in segment:
            set_event(page, f"segment.{part}.event", segment[part]["event"])
            for j, cond in enumerate(segment[part].get("where", [])):
                add_filter(page, f"segment.{part}.where", j, cond)
            set_range(page, f"segment.{part}.date_range", segment[part].get("date_range"))
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
                [...tr.children].map(td =>
                    td.dataset.value !== undefined ? ['v', td.dataset.value] : ['t', td.textContent]))
        ]"""
    )
    rows = []
    for row in cells:
        record: dict[str, Any] = {}
        for name, (kind, text) in zip(header, row, strict=True):
            if name == "value":
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


def expected_points(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """What the chart must draw for these rows (the rules of engine/web/chart.js)."""
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


def assert_shows(page: Any, want: list[dict[str, Any]]) -> None:
    got = table_rows(page)
    assert same_rows(got, want), (got[:4], want[:4])
    drawn = chart_points(page)
    expected = expected_points(want)
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


# -- the gallery ---------------------------------------------------------------------------------------

SHOTS = {"daily_active_users": "explorer-line", "signups_per_country": "explorer-top-n"}


@pytest.mark.parametrize("name,question,query", GALLERY, ids=[g[0] for g in GALLERY])
def test_gallery_question_built_by_clicking(
    page: Any, project_file: Path, tmp_path: Path, name: str, question: str, query: dict[str, Any]
) -> None:
    build(page, query)
    key, in_url = url_query(page)
    assert in_url == query  # the clicks made exactly the gallery's query
    run_with_enter(page)
    want = expected_rows(query)
    assert_shows(page, want)
    assert wait_sql(page, key, "duckdb") == expected_sql(project_file, query)
    if name in SHOTS:
        screenshot(page, SHOTS[name], tmp_path)
    # The URL alone brings the same view back.
    page.reload()
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, want)
    assert page.input_value(sel("series.0.event")) == (
        query["series"][0]["event"] if isinstance(query["series"][0]["event"], str) else "__combined"
    )


# -- beyond the gallery -----------------------------------------------------------------------------------

ADVANCED = {
    "series": [
        {
            "event": "page_view",
            "where": [{"property": "platform", "op": "in", "values": ["web", "ios"]}],
            "measure": "unique_users",
            "label": "visitors",
        },
        {
            "event": {
                "any_of": [
                    {"event": "purchase", "where": [{"property": "revenue", "op": "gt", "value": 20}]},
                    "payment",
                ]
            },
            "measure": "unique_users",
            "label": "buyers",
        },
    ],
    "date_range": {"from": "2025-04-01", "to": "2025-06-30"},
    "time_grain": "month",
    "breakdown": ["country"],
    "breakdown_limit": 3,
    "formulas": [{"label": "conversion", "expression": "buyers / visitors * 100"}],
    "segment": {"user_where": [{"property": "account_type", "op": "neq", "value": "personal"}]},
    "compare": "previous_period",
}


def test_advanced_query_formula_segment_compare(page: Any, server: Any, project_file: Path, tmp_path: Path) -> None:
    build(page, ADVANCED)
    key, in_url = url_query(page)
    assert in_url == ADVANCED
    run_with_enter(page)
    from segwise.output import records

    want = records(segwise.run(ADVANCED, server.project, now=NOW))
    assert {r["series"] for r in want} >= {"visitors", "buyers", "conversion", "visitors (previous)"}
    assert_shows(page, want)
    page.check('input[name="chart-type"][value="bar"]')
    assert page.evaluate("segwise.chart.getOption().series.every(s => s.type === 'bar')")
    assert "chart=bar" in page.evaluate("location.hash")
    screenshot(page, "explorer-advanced", tmp_path)
    # The SQL panel follows the dialect; the choice is part of the URL too.
    page.select_option("#dialect", "snowflake")
    assert wait_sql(page, key, "snowflake") == expected_sql(project_file, ADVANCED, "snowflake")
    assert "dialect=snowflake" in page.evaluate("location.hash")
    page.locator("#sql-panel").scroll_into_view_if_needed()
    screenshot(page, "explorer-sql", tmp_path)
    page.reload()
    wait_sql(page, key, "snowflake")
    assert page.input_value("#dialect") == "snowflake"
    assert page.is_checked('input[name="chart-type"][value="bar"]')
    assert page.input_value(sel("series.1.event")) == "__combined"
    assert page.input_value(sel("series.1.event.any_of.0.where.0.value")) == "20"


def test_keyboard_labels_and_relative_range(page: Any) -> None:
    # Every control of the builder has an accessible name.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('#builder select, #builder input')].filter(el =>
            !el.getAttribute('aria-label') && !(el.id && document.querySelector(`label[for="${el.id}"]`))
            && !el.closest('label')).map(el => el.outerHTML)"""
    )
    assert unnamed == []
    page.focus(sel("series.0.label"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.path") == "series.0.event"
    page.keyboard.type("sign")  # typing selects in a focused select
    choose(page, "series.0.event", "signup")
    set_range(page, "date_range", {"last": "8w"})
    page.select_option("#time-grain", "week")
    page.focus(sel("date_range.amount"))
    page.keyboard.press("Enter")
    key, query = url_query(page)
    assert query["date_range"] == {"last": "8w"} and query["series"][0]["event"] == "signup"
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query))


def test_an_example_from_the_gallery_menu(page: Any) -> None:
    _, question, query = GALLERY[0]
    page.select_option("#example", label=question)
    key, in_url = url_query(page)
    assert in_url == query
    page.wait_for_selector(f'#results[data-state=done][data-key="{key}"]')
    assert_shows(page, expected_rows(query))


def test_errors_are_shown_with_where(page: Any, server: Any) -> None:
    bad = {"series": [{"event": "signupx", "measure": "events"}], "date_range": {"last": "7d"}}
    key = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode().rstrip("=")
    page.goto(f"{server.url}/#q={key}")
    page.wait_for_selector("#results[data-state=error]")
    text = page.inner_text("#error")
    assert "series[0] (label A) > event" in text and "unknown event 'signupx'" in text and "signup" in text
    assert page.input_value(sel("series.0.event")) == "signupx"  # kept, marked unknown


def test_a_long_query_shows_progress_and_can_be_cancelled(
    page: Any, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segwise.execute

    original = segwise.execute.answer
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return original(*args, **kwargs)

    page.wait_for_selector("#results[data-state=done]")  # the page's first answer is in
    monkeypatch.setattr(segwise.execute, "answer", slow)
    before = server.runner.cancelled
    try:
        page.click("#run")
        page.wait_for_selector("#results[data-state=running]")
        time.sleep(0.3)
        assert page.is_visible("#progress") and page.is_visible("#cancel")
        assert page.inner_text("#status").startswith("running…")
        page.keyboard.press("Escape")
        page.wait_for_selector("#results[data-state=cancelled]")
        assert not page.is_visible("#cancel") and page.inner_text("#status") == "cancelled"
        deadline = time.monotonic() + 5
        while server.runner.cancelled == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.runner.cancelled == before + 1  # the server saw the client go away
    finally:
        release.set()
