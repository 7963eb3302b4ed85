/* segwise explorer: the retention builder (`retention: {start, return, start_mode, periods, windows,
 * cumulative}`; docs/queries.md "Retention") and its cohort x period heatmap (the readout under
 * the summary curve: each cell the rate and the count, shaded by the rate). */
(function (UI) {
  "use strict";

  var h = UI.h, ctx = UI.ctx, option = UI.option;
  var OWN = ["period", "count", "cohort_size", "rate"];

  function heatmap(rows) {
    var C = window.segwiseChart;
    var columns = C.groupColumns(rows, ["cohort"].concat(OWN));
    var most = rows.reduce(function (m, r) { return Math.max(m, r.period); }, 0);
    var lines = [];
    var byLine = {};
    rows.forEach(function (r) {
      var key = (r.cohort === null ? "" : r.cohort) + "|" + C.groupText(r, columns);
      if (!byLine[key]) { byLine[key] = { row: r, cells: {} }; lines.push(key); }
      byLine[key].cells[r.period] = r;
    });
    if (lines.length > 400) lines = lines.slice(0, 400);
    var periods = [];
    for (var p = 0; p <= most; p++) periods.push(p);
    var withTime = rows.some(function (r) { return r.cohort !== null && String(r.cohort).slice(11, 16) !== "00:00"; });
    var head = ["cohort"].concat(columns, ["size"], periods.map(String));
    return h("div", { id: "retention-heatmap", class: "readout" }, h("h3", { text: "Cohorts × periods (rate, units)" }),
      h("div", { class: "table-wrap" }, h("table", { class: "readout-table heatmap" },
        h("thead", {}, h("tr", {}, head.map(function (c) { return h("th", { scope: "col", text: c }); }))),
        h("tbody", {}, lines.map(function (key) {
          var line = byLine[key];
          var r0 = line.row;
          return h("tr", { "data-cohort": r0.cohort === null ? "" : r0.cohort, "data-group": C.groupText(r0, columns) },
            h("th", { scope: "row", text: r0.cohort === null ? "all cohorts" : C.bucketLabel(r0.cohort, withTime) }),
            columns.map(function (c) { return h("td", { text: r0[c] === null ? "∅" : String(r0[c]) }); }),
            h("td", { class: "num", text: UI.formatValue((line.cells[0] || r0).cohort_size) }),
            periods.map(function (k) {
              var c = line.cells[k];
              if (!c) return h("td", { class: "cell empty", text: "" });
              var shade = c.rate === null ? 0 : Math.round(c.rate * 100) / 100;
              return h("td", { class: "cell", "data-period": String(k), "data-count": String(c.count),
                "data-rate": JSON.stringify(c.rate), style: "background: rgba(59, 91, 219, " + shade + ")" + (shade > 0.5 ? "; color: #fff" : ""),
                title: c.count + " of " + c.cohort_size },
                h("span", { class: "rate", text: c.rate === null ? "–" : (100 * c.rate).toFixed(1) + "%" }),
                h("span", { class: "count", text: UI.formatValue(c.count) }));
            }));
        })))));
  }

  function eventCard(r, key, title) {
    return h("div", { class: "card analysis-event" },
      h("h3", { text: title }),
      UI.eventPicker(r[key], "event", "retention." + key + ".event", title + " event"),
      UI.filterList(r[key].where, "retention." + key + ".where", title));
  }

  function holderOf(part, fallback) {
    if (part === undefined || part === null) part = fallback;
    if (typeof part === "string" || (part && part.any_of)) part = { event: part };
    part = UI.clone(part);
    return UI.editableEvent(part);
  }

  UI.register({
    key: "retention",
    label: "Retention",
    grains: ["hour", "day", "week", "month"],
    defaultGrain: "week",
    ownGrain: true,
    controls: { breakdownLimit: true },
    breakdown: {},
    lead: "cohort",
    columns: OWN,
    chart: "retention",
    readout: heatmap,
    start: function (event) {
      var ev = event || UI.topEvent();
      return { retention: { start: { event: ev, where: [] }, return: { event: "any", where: [] } } };
    },
    event: function (q) { return q.retention.start.event; },
    editable: function (q) {
      var r = q.retention;
      UI.noteGiven(r, ["return", "start_mode", "periods", "windows", "cumulative"]);  // kept even when defaults
      r.start = holderOf(r.start, "any");
      r.return = holderOf(r.return, r.start);
      r.start_mode = r.start_mode || "first_time";
      r.periods = r.periods || 8;
      r.windows = r.windows || "calendar";
      r.cumulative = !!r.cumulative;
    },
    clean: function (q, out) {
      var r = q.retention;
      var c = { start: UI.cleanEventFilter(r.start) };
      var back = UI.cleanEventFilter(r.return);  // the default return event is the start event
      if (UI.given(r, "return") || JSON.stringify(back) !== JSON.stringify(c.start)) c.return = back;
      if (UI.emits(r, "start_mode", "first_time")) c.start_mode = r.start_mode;
      if (UI.emits(r, "periods", 8)) c.periods = r.periods;
      if (UI.emits(r, "windows", "calendar")) c.windows = r.windows;
      if (UI.emits(r, "cumulative", false)) c.cumulative = r.cumulative;
      out.retention = c;
    },
    render: function (el, q) {
      var r = q.retention;
      var mode = h("select", { "data-path": "retention.start_mode", "aria-label": "Cohorts",
        onchange: function () { UI.setByHand(r, "start_mode", mode.value); ctx.changed({ run: true }); } },
        option("first_time", "first time (each unit once)", r.start_mode === "first_time"),
        option("recurring", "recurring (every bucket with a start)", r.start_mode === "recurring"));
      var periods = h("input", { type: "number", min: 1, max: 400, value: String(r.periods), class: "narrow",
        "data-path": "retention.periods", "aria-label": "Periods",
        oninput: function () { var n = parseInt(periods.value, 10); if (n > 0) { UI.setByHand(r, "periods", n); ctx.changed({}); } },
        onchange: function () { ctx.scheduleRun(); } });
      var windows = h("select", { "data-path": "retention.windows", "aria-label": "Period windows",
        onchange: function () { UI.setByHand(r, "windows", windows.value); ctx.changed({ run: true }); } },
        option("calendar", "calendar buckets", r.windows === "calendar"),
        option("rolling", "rolling from the start event", r.windows === "rolling"));
      var cumulative = h("label", { class: "inline check" },
        h("input", { type: "checkbox", id: "retention-cumulative", "data-path": "retention.cumulative", checked: r.cumulative,
          onchange: function (e) { UI.setByHand(r, "cumulative", e.target.checked); ctx.changed({ run: true }); } }),
        " On or after (returned in period k or later)");
      el.appendChild(h("section", { "aria-labelledby": "retention-heading" },
        h("h2", { id: "retention-heading", text: "Retention" }),
        h("p", { class: "muted note", text: "Cohorts by their start event's bucket (the grain); period k: came back k buckets later." }),
        eventCard(r, "start", "Start"),
        eventCard(r, "return", "Return"),
        h("div", { class: "row" }, h("label", { class: "inline", text: "Cohorts" }), mode),
        h("div", { class: "row" }, h("label", { class: "inline", text: "Periods" }), periods,
          h("label", { class: "inline", text: "Windows" }), windows),
        h("div", { class: "row" }, cumulative)));
    },
  });
})(window.segwiseUI);
