/* segwise chart: a retention answer (cohort, breakdown columns, period, count, cohort_size, rate;
 * docs/queries.md "Retention") as its summary curve: the summary rows (cohort null) as one line
 * per breakdown group ("retention" without one) of the rate (0..1) per period ("0", "1", ...).
 * The cohort x period heatmap is the page's readout (readout_retention in the explorer).
 */
(function (root) {
  "use strict";

  var C = root.segwiseChart;
  var OWN = ["cohort", "period", "count", "cohort_size", "rate"];

  function option(rows, opts) {
    var columns = C.groupColumns(rows, OWN);
    var summary = rows.filter(function (r) { return r.cohort === null; });
    var most = -1;
    var lines = {};
    var order = [];
    summary.forEach(function (r) {
      var key = columns.length ? C.groupText(r, columns) : "retention";
      if (!lines[key]) { lines[key] = {}; order.push(key); }
      lines[key][r.period] = r.rate;
      most = Math.max(most, r.period);
    });
    var periods = [];
    for (var p = 0; p <= most; p++) periods.push(p);
    var truncated = Math.max(0, order.length - C.MAX_LINES);
    var base = C.frame(opts || {}, "axis");
    base.xAxis = { type: "category", name: "period", nameLocation: "middle", nameGap: 24, data: periods.map(String) };
    base.yAxis = { type: "value", name: "retained", min: 0, max: 1 };
    base.series = order.slice(0, C.MAX_LINES).map(function (key) {
      return { name: key, type: "line", data: periods.map(function (k) { return k in lines[key] ? lines[key][k] : null; }) };
    });
    base.segwise = {
      kind: "retention", type: "line", truncated: truncated,
      note: truncated ? truncated + " more groups are in the table" : "",
    };
    return base;
  }

  C.register("retention", { columns: ["cohort", "period", "cohort_size"], option: option });
})(typeof window !== "undefined" ? window : this);
