/* segwise chart: result rows -> an ECharts option.
 *
 * Shared by the explorer page and `segwise run --plot` (which embeds this file in a standalone
 * HTML page), so both draw the same chart. Rows are the API's JSON rows: bucket (ISO 8601),
 * breakdown columns, series, value.
 *
 *   segwiseChart.option(rows, {type: "auto" | "line" | "bar", title: "..."})
 *   segwiseChart.seriesKey(row, groupColumns)  -> the legend name of a row's line or bar
 */
(function (root) {
  "use strict";

  var RESERVED = { bucket: true, series: true, value: true };
  var MAX_LINES = 60;

  function groupColumns(rows) {
    if (!rows.length) return [];
    return Object.keys(rows[0]).filter(function (k) { return !RESERVED[k]; });
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
    var base = {
      animation: false,
      title: opts.title ? { text: opts.title, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } } : undefined,
      tooltip: { trigger: total ? "item" : "axis", confine: true },
      legend: { type: "scroll", top: opts.title ? 28 : 4, left: 8, right: 8 },
      grid: { left: 8, right: 24, top: opts.title ? 64 : 40, bottom: 8, containLabel: true },
      yAxis: { type: "value", scale: false },
    };
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
    base.segwise = { truncated: truncated, kind: total ? "total" : "time", type: type };
    return base;
  }

  var api = { option: option, seriesKey: seriesKey, groupColumns: groupColumns, groupText: groupText, bucketLabel: bucketLabel };
  root.segwiseChart = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : this);
