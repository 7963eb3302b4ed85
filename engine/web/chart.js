/* segwise chart: result rows -> an ECharts option.
 *
 * Shared by the explorer page and `segwise run --plot` (which embeds the chart*.js files in a
 * standalone HTML page), so both draw the same chart. Rows are the API's JSON rows. This file
 * draws a segmentation (bucket (ISO 8601), breakdown columns, series, value); every other
 * analysis registers its own kind from a file of its own (chart_lifecycle.js, ...):
 *
 *   segwiseChart.option(rows, {type: "auto" | "line" | "bar", title: "...", kind: "series" | ...})
 *   segwiseChart.register(kind, {columns: [...], option: function (rows, opts) {...}})
 *       columns: the result columns (besides bucket and the breakdown) that tell its rows apart
 *       when opts.kind is not given (as in `--plot`)
 *   segwiseChart.seriesKey(row, groupColumns)  -> the legend name of a row's line or bar
 *
 * An option carries `segwise: {kind, type, truncated, note}` for the page (removed before drawing).
 */
(function (root) {
  "use strict";

  var MAX_LINES = 60;
  var KINDS = {};

  /* The breakdown columns: every column but the bucket and the analysis' own (default: series, value). */
  function groupColumns(rows, own) {
    if (!rows.length) return [];
    var reserved = ["bucket"].concat(own || ["series", "value"]);
    return Object.keys(rows[0]).filter(function (k) { return reserved.indexOf(k) < 0; });
  }

  /* What every chart shares: title, tooltip, legend, grid, a value axis. */
  function frame(opts, trigger) {
    return {
      animation: false,
      title: opts.title ? { text: opts.title, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } } : undefined,
      tooltip: { trigger: trigger, confine: true },
      legend: { type: "scroll", top: opts.title ? 28 : 4, left: 8, right: 8 },
      grid: { left: 8, right: 24, top: opts.title ? 64 : 40, bottom: 8, containLabel: true },
      yAxis: { type: "value", scale: false },
    };
  }

  function register(kind, spec) {
    KINDS[kind] = spec;
  }

  /* The kind of chart for rows: opts.kind, else the registered kind whose columns the rows have. */
  function kindOf(rows, opts) {
    if (opts.kind && KINDS[opts.kind]) return opts.kind;
    var first = rows[0] || {};
    if (first.series !== undefined) return "series";
    var found = Object.keys(KINDS).filter(function (k) {
      var cols = KINDS[k].columns || [];
      return cols.length && cols.every(function (c) { return first[c] !== undefined; });
    });
    return found.length ? found[0] : "series";
  }

  function groupText(row, columns) {
    return columns.map(function (c) {
      var v = row[c];
      return v === null || v === undefined ? "∅" : String(v);
    }).join(" / ");
  }

  /* The bucket as the project's local time, straight from the ISO text (no browser time zone). */
  function bucketLabel(iso, withTime) {
    var text = String(iso);
    return withTime ? text.slice(0, 10) + " " + text.slice(11, 16) : text.slice(0, 10);
  }

  function seriesKey(row, columns, multiSeries) {
    var group = groupText(row, columns);
    if (!columns.length) return row.series;
    return multiSeries ? row.series + " · " + group : group;
  }

  function option(rows, opts) {
    opts = opts || {};
    var kind = kindOf(rows, opts);
    return KINDS[kind].option(rows, opts);
  }

  function seriesOption(rows, opts) {
    var columns = groupColumns(rows);
    var buckets = [];
    var seenBucket = {};
    var labels = [];
    var seenLabel = {};
    rows.forEach(function (r) {
      if (!seenBucket[r.bucket]) { seenBucket[r.bucket] = true; buckets.push(r.bucket); }
      if (!seenLabel[r.series]) { seenLabel[r.series] = true; labels.push(r.series); }
    });
    buckets.sort();
    var withTime = buckets.some(function (b) { return String(b).slice(11, 16) !== "00:00"; });
    var total = buckets.length <= 1;
    var type = opts.type && opts.type !== "auto" ? opts.type : total ? "bar" : "line";
    var base = frame(opts, total ? "item" : "axis");
    var series = [];
    var truncated = 0;
    if (total) {
      // One bar per breakdown value (or per series without breakdowns), one colour per series.
      var categories = [];
      var seenCat = {};
      rows.forEach(function (r) {
        var c = columns.length ? groupText(r, columns) : r.series;
        if (!seenCat[c]) { seenCat[c] = true; categories.push(c); }
      });
      if (columns.length) {
        // Largest first by the first series (as a top-N ranks them), "Other" and empty values last.
        var first = {};
        rows.forEach(function (r) { if (r.series === labels[0]) first[groupText(r, columns)] = r.value; });
        var rank = function (c) { var v = first[c]; return v === null || v === undefined ? -Infinity : v; };
        var other = columns.map(function () { return "Other"; }).join(" / ");
        categories.sort(function (a, b) {
          if ((a === other) !== (b === other)) return a === other ? 1 : -1;
          return rank(b) - rank(a) || (a < b ? -1 : a > b ? 1 : 0);
        });
      }
      labels.forEach(function (label) {
        var byCat = {};
        rows.forEach(function (r) {
          if (r.series === label) byCat[columns.length ? groupText(r, columns) : r.series] = r.value;
        });
        series.push({
          name: label,
          type: type,
          data: categories.map(function (c) { return c in byCat ? byCat[c] : null; }),
        });
      });
      base.xAxis = { type: "category", data: categories, axisLabel: { interval: 0, rotate: categories.length > 8 ? 35 : 0 } };
    } else {
      var multi = labels.length > 1;
      var lines = {};
      var order = [];
      rows.forEach(function (r) {
        var key = seriesKey(r, columns, multi);
        if (!lines[key]) { lines[key] = {}; order.push(key); }
        lines[key][r.bucket] = r.value;
      });
      if (order.length > MAX_LINES) { truncated = order.length - MAX_LINES; order = order.slice(0, MAX_LINES); }
      order.forEach(function (key) {
        series.push({
          name: key,
          type: type,
          showSymbol: buckets.length <= 60,
          connectNulls: false,
          data: buckets.map(function (b) { return b in lines[key] ? lines[key][b] : null; }),
        });
      });
      base.xAxis = {
        type: "category",
        boundaryGap: type === "bar",
        data: buckets.map(function (b) { return bucketLabel(b, withTime); }),
      };
    }
    base.series = series;
    base.segwise = {
      truncated: truncated, kind: total ? "total" : "time", type: type,
      note: truncated ? truncated + " more lines are in the table (set a breakdown limit to merge them into Other)" : "",
    };
    return base;
  }

  register("series", { columns: ["series"], option: seriesOption });

  var api = {
    option: option, register: register, frame: frame, seriesKey: seriesKey, groupColumns: groupColumns,
    groupText: groupText, bucketLabel: bucketLabel, MAX_LINES: MAX_LINES,
  };
  root.segwiseChart = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : this);
