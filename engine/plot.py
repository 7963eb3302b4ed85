"""Charts outside the browser: ``segwise run QUERY --plot out.html|out.png``.

The chart is the explorer's: the standalone HTML file embeds the vendored ECharts build, the
page's own ``chart.js`` (rows -> chart option) and the rows, so it opens offline and looks like
the explorer. A PNG is that page rendered by headless Chromium; without Chromium the error says
what to install.

    >>> write_plot(table, Path("dau.html"), title="Daily active users")   # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SpecError, UnsupportedError
from .output import records

if TYPE_CHECKING:
    import pyarrow as pa

WEB_DIR = Path(__file__).resolve().parent / "web"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
WIDTH, HEIGHT = 1000, 560

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  html, body {{ margin: 0; background: #fff; font: 14px system-ui, sans-serif; }}
  #chart {{ width: 100vw; height: 100vh; min-height: 320px; }}
</style>
<script>{echarts}</script>
<script>{chart_js}</script>
</head>
<body>
<div id="chart" role="img" aria-label="{title}"></div>
<script>
  var rows = {rows};
  var option = segwiseChart.option(rows, {{ type: {chart_type}, title: {title_json} }});
  delete option.segwise;
  var chart = echarts.init(document.getElementById("chart"), null, {{ renderer: "svg" }});
  chart.setOption(option);
  window.addEventListener("resize", function () {{ chart.resize(); }});
  document.body.setAttribute("data-ready", "true");
</script>
</body>
</html>
"""


def _script(text: str) -> str:
    """Text safe inside a <script> element."""
    return text.replace("</", "<\\/")


def chart_scripts() -> str:
    """``chart.js`` and every analysis' ``chart_<kind>.js`` after it (they register with it)."""
    files = [WEB_DIR / "chart.js", *sorted(WEB_DIR.glob("chart_*.js"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def chart_html(table: pa.Table, title: str = "", chart_type: str = "auto") -> str:
    """A standalone page drawing ``table`` (a segwise result) as the explorer would."""
    rows = json.dumps(records(table), ensure_ascii=False)
    return _PAGE.format(
        title=html.escape(title or "segwise"),
        title_json=_script(json.dumps(title or None)),
        echarts=_script((WEB_DIR / "vendor" / "echarts.min.js").read_text(encoding="utf-8")),
        chart_js=_script(chart_scripts()),
        rows=_script(rows),
        chart_type=json.dumps(chart_type),
    )


def find_chromium() -> str | None:
    """``$SEGWISE_CHROMIUM``, else the first Chromium or Chrome on PATH."""
    configured = os.environ.get("SEGWISE_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_png(page: str, output: Path, width: int = WIDTH, height: int = HEIGHT, timeout_s: float = 60.0) -> None:
    """Screenshot ``page`` (HTML text) with headless Chromium into ``output``."""
    chromium = find_chromium()
    if chromium is None:
        raise UnsupportedError(
            "a PNG chart is rendered by headless Chromium, which was not found "
            f"(looked for {', '.join(CHROMIUM_NAMES)} on PATH and $SEGWISE_CHROMIUM)",
            where=str(output),
            hint="install it (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium) "
            "or set SEGWISE_CHROMIUM=/path/to/chrome; or write --plot chart.html instead",
        )
    with tempfile.TemporaryDirectory(prefix="segwise-plot-") as tmp:
        source = Path(tmp) / "chart.html"
        source.write_text(page, encoding="utf-8")
        target = Path(tmp) / "chart.png"
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={target}",
            source.as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise UnsupportedError(
                f"Chromium did not render the chart within {timeout_s:g} s", where=str(output)
            ) from None
        if not target.exists():
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise UnsupportedError(
                f"Chromium ({chromium}) did not write a screenshot (exit {result.returncode}): {' '.join(detail)}",
                where=str(output),
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), output)


def write_plot(table: pa.Table, output: Path, title: str = "", chart_type: str = "auto") -> None:
    """Write the chart of ``table`` to ``output``: ``.html`` (standalone) or ``.png``."""
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".png"):
        raise SpecError(
            f"--plot writes .html or .png files, not {output.suffix or 'a file without suffix'!r}", where=str(output)
        )
    page = chart_html(table, title=title, chart_type=chart_type)
    if suffix == ".png":
        render_png(page, output)
    else:
        output.write_text(page, encoding="utf-8")
