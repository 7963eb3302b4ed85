/* segwise chart: a funnel answer (bucket, breakdown columns, step, step_label, count, conversion,
 * from_previous, median_seconds, avg_seconds; docs/queries.md "Funnels").
 *
 * One entry bucket (time_grain total): bars per step ("1. view"), per group a stack of the units
 * converted to the step ("converted", "group · converted") over those that dropped off since step 1
 * ("dropped off": step-1 count minus count), the conversion on the bar.
 * Several entry buckets: a trend line per step after the first (and group: "group · 2. cart") of its
 * conversion from step 1 (0..1) per entry bucket.
 * segwiseChart.durationText(seconds): the time-to-convert readout's text ("4.2 h").
 */
(function (root) {
  "use strict";

  var C = root.segwiseChart;
  var OWN = ["step", "step_label", "count", "conversion", "from_previous", "median_seconds", "avg_seconds"];

  function stepName(r) { return r.step + ". " + r.step_label; }

  function option(rows, opts) {
    var columns = C.groupColumns(rows, OWN);
    var buckets = [];
    var groups = [];
    var steps = [];
    rows.forEach(function (r) {
      if (buckets.indexOf(r.bucket) < 0) buckets.push(r.bucket);
      var g = C.groupText(r, columns);
      if (groups.indexOf(g) < 0) groups.push(g);
      if (steps.indexOf(stepName(r)) < 0) steps.push(stepName(r));
    });
    buckets.sort();
    var base = C.frame(opts || {}, "axis");
    var series = [];
    var truncated = 0;
    if (buckets.length <= 1) {
      var room = Math.floor(C.MAX_LINES / 2);
      truncated = Math.max(0, groups.length - room);
      groups.slice(0, room).forEach(function (g) {
        var mine = rows.filter(function (r) { return C.groupText(r, columns) === g; });
        var byStep = {};
        mine.forEach(function (r) { byStep[stepName(r)] = r; });
        var first = mine.filter(function (r) { return r.step === 1; })[0];
        var prefix = columns.length ? g + " · " : "";
        series.push({
          name: prefix + "converted", type: "bar", stack: g, barMaxWidth: 64,
          label: { show: true, position: "insideTop", formatter: function (p) {
            var r = byStep[steps[p.dataIndex]];
            return r && r.conversion !== null ? (100 * r.conversion).toFixed(1) + "%" : "";
          } },
          data: steps.map(function (s) { return s in byStep ? byStep[s].count : null; }),
        });
        series.push({
          name: prefix + "dropped off", type: "bar", stack: g, barMaxWidth: 64,
          itemStyle: { opacity: 0.35 },
          data: steps.map(function (s) { return s in byStep && first ? first.count - byStep[s].count : null; }),
        });
      });
      base.xAxis = { type: "category", data: steps, axisLabel: { interval: 0, rotate: steps.length > 6 ? 30 : 0 } };
    } else {
      var withTime = buckets.some(function (b) { return String(b).slice(11, 16) !== "00:00"; });
      var lines = {};
      var order = [];
      rows.forEach(function (r) {
        if (r.step === 1) return;
        var key = (columns.length ? C.groupText(r, columns) + " · " : "") + stepName(r);
        if (!lines[key]) { lines[key] = {}; order.push(key); }
        lines[key][r.bucket] = r.conversion;
      });
      truncated = Math.max(0, order.length - C.MAX_LINES);
      order.slice(0, C.MAX_LINES).forEach(function (key) {
        series.push({
          name: key, type: "line", connectNulls: false, showSymbol: buckets.length <= 60,
          data: buckets.map(function (b) { return b in lines[key] ? lines[key][b] : null; }),
        });
      });
      base.yAxis = { type: "value", name: "conversion from step 1", min: 0, max: 1 };
      base.xAxis = { type: "category", data: buckets.map(function (b) { return C.bucketLabel(b, withTime); }) };
    }
    base.series = series;
    base.segwise = {
      kind: "funnel", type: buckets.length <= 1 ? "bar" : "line", truncated: truncated,
      note: truncated ? truncated + " more groups or steps are in the table" : "",
    };
    return base;
  }

  /* Seconds as a person reads them: "40 s", "12.5 min", "4.2 h", "3.1 d". */
  function durationText(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 60) return seconds.toFixed(0) + " s";
    if (seconds < 3600) return (seconds / 60).toFixed(1) + " min";
    if (seconds < 86400) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " d";
  }

  C.durationText = durationText;
  C.register("funnel", { columns: ["step", "step_label", "conversion"], option: option });
})(typeof window !== "undefined" ? window : this);
