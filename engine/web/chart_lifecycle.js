/* segwise chart: a lifecycle answer (bucket, breakdown columns, status, value; docs/queries.md
 * "Lifecycle") as stacked bars per bucket: new, returning and resurrecting units above zero,
 * dormant units below it (drawn as minus their count; the table keeps the positive count).
 * With a breakdown, each group is a stack of its own (lighter in turn) and its bars are named
 * "group · status".
 */
(function (root) {
  "use strict";

  var C = root.segwiseChart;
  var STATUSES = ["new", "returning", "resurrecting", "dormant"];
  var COLORS = { new: "#2f9e44", returning: "#3b5bdb", resurrecting: "#ae3ec9", dormant: "#e8590c" };
  var SHADES = [1, 0.6, 0.35]; // breakdown groups side by side: the same colours, lighter in turn

  function option(rows, opts) {
    var columns = C.groupColumns(rows, ["status", "value"]);
    var buckets = [];
    var groups = [];
    var cells = {};
    rows.forEach(function (r) {
      if (buckets.indexOf(r.bucket) < 0) buckets.push(r.bucket);
      var g = C.groupText(r, columns);
      if (!cells[g]) { cells[g] = {}; groups.push(g); }
      cells[g][r.status + "|" + r.bucket] = r.value;
    });
    buckets.sort();
    var withTime = buckets.some(function (b) { return String(b).slice(11, 16) !== "00:00"; });
    var room = Math.floor(C.MAX_LINES / STATUSES.length);
    var truncated = Math.max(0, groups.length - room);
    var series = [];
    groups.slice(0, room).forEach(function (g, i) {
      STATUSES.forEach(function (status) {
        series.push({
          name: columns.length ? g + " · " + status : status,
          type: "bar",
          stack: columns.length ? g : "lifecycle",
          barMaxWidth: 48,
          itemStyle: { color: COLORS[status], opacity: SHADES[i % SHADES.length] },
          data: buckets.map(function (b) {
            var v = cells[g][status + "|" + b];
            return v === undefined || v === null ? null : status === "dormant" ? -v : v;
          }),
        });
      });
    });
    var base = C.frame(opts || {}, "axis");
    base.tooltip.valueFormatter = function (v) { return v === null || v === undefined ? "–" : Math.abs(v).toLocaleString("en-US"); };
    base.xAxis = { type: "category", data: buckets.map(function (b) { return C.bucketLabel(b, withTime); }) };
    base.series = series;
    base.segwise = {
      kind: "lifecycle", type: "bar", truncated: truncated,
      note: truncated ? truncated + " more groups are in the table" : "",
    };
    return base;
  }

  C.register("lifecycle", { columns: ["status"], option: option });
})(typeof window !== "undefined" ? window : this);
