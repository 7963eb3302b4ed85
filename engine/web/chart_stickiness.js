/* segwise chart: a stickiness answer (bucket, breakdown columns, days, value; docs/queries.md
 * "Stickiness") as bars per `days` (the x axis: 1, 2, ... days active), one bar series per
 * bucket named by its start ("2025-05-05"), and per breakdown group ("2025-05-05 · US").
 * A bucket with fewer days inside the range (a partial one) has no bar beyond its last day.
 */
(function (root) {
  "use strict";

  var C = root.segwiseChart;

  function option(rows, opts) {
    var columns = C.groupColumns(rows, ["days", "value"]);
    var withTime = rows.some(function (r) { return String(r.bucket).slice(11, 16) !== "00:00"; });
    var most = 0;
    var names = [];
    var cells = {};
    rows.forEach(function (r) {
      var name = C.bucketLabel(r.bucket, withTime) + (columns.length ? " · " + C.groupText(r, columns) : "");
      if (!cells[name]) { cells[name] = {}; names.push(name); }
      cells[name][r.days] = r.value;
      most = Math.max(most, r.days);
    });
    var days = [];
    for (var d = 1; d <= most; d++) days.push(d);
    var truncated = Math.max(0, names.length - C.MAX_LINES);
    var base = C.frame(opts || {}, "axis");
    base.xAxis = { type: "category", name: "days", nameLocation: "middle", nameGap: 24, data: days.map(String) };
    base.series = names.slice(0, C.MAX_LINES).map(function (name) {
      return {
        name: name,
        type: "bar",
        barMaxWidth: 36,
        data: days.map(function (d) { return d in cells[name] ? cells[name][d] : null; }),
      };
    });
    base.segwise = {
      kind: "stickiness", type: "bar", truncated: truncated,
      note: truncated ? truncated + " more buckets or groups are in the table" : "",
    };
    return base;
  }

  C.register("stickiness", { columns: ["days"], option: option });
})(typeof window !== "undefined" ? window : this);
