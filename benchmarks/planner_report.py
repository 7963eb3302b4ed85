"""The planner benchmark's report: the Markdown tables of ``docs/benchmarks.md``, the ratio summary
and the done-when checks (see ``benchmarks/planner.py``)."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.planner_queries import VARIANTS, gallery_queries

# -- the report -----------------------------------------------------------------------------------------


def _ms(cell: dict[str, Any]) -> str:
    if "median_ms" not in cell:
        return "timeout" if "error" in cell else "—"
    mark = "" if cell.get("same_as_run", True) else " ≠"
    return f"{cell['median_ms']:,.1f}{mark}"


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> str:
    if "median_ms" in a and "median_ms" in b and b["median_ms"] > 0:
        return f"{a['median_ms'] / b['median_ms']:.2f}"
    if "median_ms" in a and "error" in b:
        return f"<{a['median_ms'] / (b.get('timeout_ms') or 1e12):.2f}"
    return "—"


def _count(value: Any) -> str:
    if value is None:
        return "—"
    value = float(value)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def markdown(
    report: dict[str, Any],
    detail: tuple[str, str, str] = ("duckdb", "10m", "partitioned"),
    only_detail: bool = False,
) -> str:
    """A table per (engine, size, layout), the ``detail`` one with rows, bytes and memory too."""
    lines: list[str] = []
    gallery = set(gallery_queries())
    timeout_ms = report["timeout_s"] * 1000
    for entry in report["results"]:
        for q in entry["queries"].values():
            for v in VARIANTS:
                if "error" in q.get(v, {}):
                    q[v]["timeout_ms"] = timeout_ms
    for entry in report["results"]:
        key = (entry["engine"], entry["size"], entry["layout"])
        if only_detail and key != detail:
            continue
        lines.append(f"#### {entry['engine']}, {entry['events']:,} events, {entry['layout']}")
        lines.append("")
        if entry.get("partial"):
            lines += [f"Partial: {entry['partial']}.", ""]
        full = key == detail
        head = "| query | segwise ms | planning ms | hand ms | naive ms | segwise/hand | segwise/naive |"
        rule = "|---|---:|---:|---:|---:|---:|---:|"
        if full:
            head += " rows scanned s / h / n | bytes scanned s / h / n | peak memory s / h / n |"
            rule += "---:|---:|---:|"
        lines += [head, rule]
        for name, q in entry["queries"].items():
            s, h, n = (q.get(v, {}) for v in ("segwise", "hand", "naive"))
            mark = "" if name in gallery else " *"
            planning = f"{s['plan_ms']:.1f}" if "plan_ms" in s else "—"
            row = f"| {name}{mark} | {_ms(s)} | {planning} | {_ms(h)} | {_ms(n)} | {_ratio(s, h)} | {_ratio(s, n)} |"
            if full:
                row += " " + " / ".join(_count(c.get("rows_scanned")) for c in (s, h, n)) + " |"
                row += " " + " / ".join(_count(c.get("bytes_scanned")) for c in (s, h, n)) + " |"
                row += " " + " / ".join(_count(c.get("peak_memory")) for c in (s, h, n)) + " |"
            lines.append(row)
        lines.append("")
    lines += done_when(report, detail)
    return "\n".join(lines)


def _short(entry: dict[str, Any]) -> str:
    engine = {"duckdb": "DuckDB", "postgresql": "PG"}[entry["engine"]]
    return f"{engine} {entry['size'].upper()} {'part' if entry['layout'] == 'partitioned' else 'flat'}"


def summary(report: dict[str, Any]) -> str:
    """Two matrices over every (engine, size, layout): segwise / hand-written and segwise / naive."""
    entries = report["results"]
    names = list(entries[0]["queries"]) if entries else []
    gallery = set(gallery_queries())
    lines: list[str] = []
    for title, other in (("segwise / hand-written", "hand"), ("segwise / naive", "naive")):
        lines += [f"{title} (median latency ratio; < 1 means segwise is faster):", ""]
        lines.append("| query | " + " | ".join(_short(e) for e in entries) + " |")
        lines.append("|---|" + "---:|" * len(entries))
        for name in names:
            cells = []
            for e in entries:
                q = e["queries"].get(name, {})
                cells.append(_ratio(q.get("segwise", {}), q.get(other, {})))
            lines.append(f"| {name}{'' if name in gallery else ' *'} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def done_when(report: dict[str, Any], detail: tuple[str, str, str] = ("duckdb", "10m", "partitioned")) -> list[str]:
    entry = next(
        (e for e in report["results"] if (e["engine"], e["size"], e["layout"]) == detail),
        None,
    )
    if entry is None:
        return []
    lines = [f"Done-when figures ({detail[0]}, {entry['events']:,} events, {detail[2]}):", ""]
    seven = entry["queries"].get("x_seven_day_dau", {}).get("segwise", {})
    if "rows_scanned" in seven:
        share = seven["rows_scanned"] / entry["events"] * 100
        verdict = "meets" if share <= 5 else "misses"
        lines.append(
            f"- 7-day query on the 365-day partitioned table: segwise reads {seven['rows_scanned']:,} of "
            f"{entry['events']:,} rows = **{share:.2f}%** ({verdict} the ≤ 5% target)."
        )
    slower, over = [], []
    gallery = gallery_queries()
    for name in gallery:
        q = entry["queries"].get(name, {})
        s, h, n = (q.get(v, {}) for v in ("segwise", "hand", "naive"))
        if "median_ms" in s and "median_ms" in h and s["median_ms"] > 1.2 * h["median_ms"]:
            over.append(f"{name} ({s['median_ms'] / h['median_ms']:.2f}x)")
        if "median_ms" in s and "median_ms" in n and s["median_ms"] > n["median_ms"]:
            slower.append(f"{name} ({s['median_ms'] / n['median_ms']:.2f}x naive)")
    lines.append(
        f"- segwise within 1.2x of hand-written: {len(gallery) - len(over)} of {len(gallery)} gallery queries"
        + (f"; over: {', '.join(over)}." if over else ".")
    )
    lines.append(
        f"- segwise never slower than naive: {len(gallery) - len(slower)} of {len(gallery)} gallery queries"
        + (f"; slower: {', '.join(slower)}." if slower else ".")
    )
    planning = [
        entry["queries"][n]["segwise"]["plan_ms"]
        for n in gallery
        if "plan_ms" in entry["queries"].get(n, {}).get("segwise", {})
    ]
    if planning:
        lines.append(
            f"- planning (compiling the query, not in the ratios above): median {statistics.median(planning):.1f} ms, "
            f"at most {max(planning):.1f} ms per gallery query."
        )
    mismatches = [
        f"{e['engine']} {e['size']} {e['layout']} {name} {v}"
        for e in report["results"]
        for name, q in e["queries"].items()
        for v in VARIANTS
        if q.get(v, {}).get("same_as_run") is False
    ]
    lines.append(
        "- answers: "
        + ("every variant equals `segwise.run`." if not mismatches else "differ: " + "; ".join(mismatches))
    )
    return lines
