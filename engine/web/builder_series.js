/* segwise explorer: the segmentation builder (`series`, `formulas`; docs/queries.md). */
(function (UI) {
  "use strict";

  var h = UI.h, option = UI.option, labelFor = UI.labelFor, ctx = UI.ctx, properties = UI.properties;
  var eventPicker = UI.eventPicker, filterList = UI.filterList, propertySelect = UI.propertySelect;

  // -- measures --------------------------------------------------------------------------------

  var SIMPLE_MEASURES = [
    ["events", "Events"], ["unique_users", "Unique users"], ["events_per_user", "Events per user"],
    ["dau", "Daily active users (1d)"], ["wau", "Weekly active users (7d)"], ["mau", "Monthly active users (30d)"],
    ["active_users", "Active users in N days"],
  ];
  var PROPERTY_MEASURES = [["sum", "Sum of"], ["avg", "Average of"], ["min", "Minimum of"], ["max", "Maximum of"],
    ["median", "Median of"], ["pNN", "Percentile of"]];

  function parseMeasure(text) {
    var raw = (text || "events").trim();
    var parts = raw.split(":");
    var name = parts[0].toLowerCase();
    if (parts.length === 1 && SIMPLE_MEASURES.some(function (m) { return m[0] === name; })) return { kind: name };
    if (name === "active_users" && parts.length === 2 && /^\d+d$/i.test(parts[1])) {
      return { kind: "active_users", n: parseInt(parts[1], 10) };
    }
    if (parts.length === 2 && ["sum", "avg", "min", "max", "median"].indexOf(name) >= 0) return { kind: name, prop: parts[1] };
    if (parts.length === 2 && /^p\d{1,2}$/.test(name)) return { kind: "pNN", n: parseInt(name.slice(1), 10), prop: parts[1] };
    return { kind: "custom", text: raw };
  }

  function buildMeasure(m) {
    if (m.kind === "custom") return (m.text || "").trim() || "events";
    if (m.kind === "active_users") return "active_users:" + (m.n || 7) + "d";
    if (m.kind === "pNN") return "p" + (m.n || 90) + ":" + (m.prop || "");
    if (["sum", "avg", "min", "max", "median"].indexOf(m.kind) >= 0) return m.kind + ":" + (m.prop || "");
    return m.kind;
  }


  function measureControls(s, i) {
    var m = parseMeasure(s.measure);
    var path = "series." + i + ".measure";
    var label = "Series " + (i + 1) + " measure";
    function update() { s.measure = buildMeasure(m); ctx.changed({ render: true, run: true }); }
    var kind = h("select", { "data-path": path + ".kind", "aria-label": label,
      onchange: function () {
        m.kind = kind.value;
        if (m.kind === "custom") m.text = s.measure;
        if (m.kind === "pNN" && !m.n) m.n = 90;
        if (m.kind === "active_users" && !m.n) m.n = 7;
        if (["sum", "avg", "min", "max", "median", "pNN"].indexOf(m.kind) >= 0 && !m.prop) {
          var numeric = properties().filter(function (p) { return ["integer", "float"].indexOf(p.type) >= 0; })[0];
          m.prop = numeric ? numeric.name : "";
        }
        update();
      } },
      h("optgroup", { label: "Counts" }, SIMPLE_MEASURES.map(function (x) { return option(x[0], x[1], m.kind === x[0]); })),
      h("optgroup", { label: "Property" }, PROPERTY_MEASURES.map(function (x) { return option(x[0], x[1] + "…", m.kind === x[0]); })),
      h("optgroup", { label: "Other" }, option("custom", "Other measure…", m.kind === "custom")));
    var extra = [];
    if (m.kind === "active_users" || m.kind === "pNN") {
      extra.push(h("input", { type: "number", min: 1, max: m.kind === "pNN" ? 99 : 366, value: m.n, class: "narrow",
        "data-path": path + ".n", "aria-label": m.kind === "pNN" ? "Percentile" : "Days",
        onchange: function (e) { m.n = parseInt(e.target.value, 10) || m.n; s.measure = buildMeasure(m); ctx.changed({ run: true }); } }));
    }
    if (["sum", "avg", "min", "max", "median", "pNN"].indexOf(m.kind) >= 0) {
      extra.push(propertySelect(m.prop, path + ".property", label + " property", function (v) { m.prop = v; update(); },
        { numeric: true, placeholder: "numeric property…" }));
    }
    if (m.kind === "custom") {
      extra.push(h("input", { type: "text", value: m.text || "", placeholder: "user_avg:events, frequency, …", class: "wide",
        "data-path": path + ".text", "aria-label": label + " (as written in a query file)",
        oninput: function (e) { m.text = e.target.value; s.measure = buildMeasure(m); ctx.changed({}); },
        onchange: function () { ctx.scheduleRun(); } }));
    }
    return h("div", { class: "row" }, h("label", { class: "inline", text: "Measure" }), kind, extra);
  }

  function renderSeries(holder, q) {
    q.series.forEach(function (s, i) {
      var name = labelFor(i);
      var occ = h("select", { "data-path": "series." + i + ".occurrence", "aria-label": "Series " + (i + 1) + " occurrence",
        onchange: function () { if (occ.value) s.occurrence = occ.value; else { delete s.occurrence; delete s.occurrence_scope; } ctx.changed({ render: true, run: true }); } },
        option("", "every time", !s.occurrence), option("first", "first time", s.occurrence === "first"), option("last", "last time", s.occurrence === "last"));
      var scope = s.occurrence ? h("select", { "data-path": "series." + i + ".occurrence_scope", "aria-label": "Series " + (i + 1) + " occurrence scope",
        onchange: function () { s.occurrence_scope = scope.value; ctx.changed({ run: true }); } },
        option("ever", "ever", (s.occurrence_scope || "ever") === "ever"), option("range", "in the range", s.occurrence_scope === "range")) : null;
      holder.appendChild(h("div", { class: "card series", "data-series": i },
        h("div", { class: "head" },
          h("span", { class: "badge", text: name }),
          h("input", { type: "text", value: s.label || "", placeholder: name + " (label)", "data-path": "series." + i + ".label",
            "aria-label": "Series " + (i + 1) + " label",
            oninput: function (e) { s.label = e.target.value.trim() || undefined; ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }),
          q.series.length > 1 ? h("button", { type: "button", class: "remove", "aria-label": "Remove series " + (i + 1), text: "×",
            onclick: function () { q.series.splice(i, 1); ctx.changed({ render: true, run: true }); } }) : null),
        eventPicker(s, "event", "series." + i + ".event", "Series " + (i + 1) + " event"),
        measureControls(s, i),
        h("div", { class: "row" }, h("label", { class: "inline", text: "Count" }), occ, scope),
        filterList(s.where, "series." + i + ".where", "Series " + (i + 1))));
    });
  }

  function renderFormulas(holder, q) {
    q.formulas.forEach(function (f, i) {
      holder.appendChild(h("div", { class: "row" },
        h("input", { type: "text", value: f.label || "", placeholder: "label", class: "narrow", "data-path": "formulas." + i + ".label",
          "aria-label": "Formula " + (i + 1) + " label", oninput: function (e) { f.label = e.target.value; ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }),
        h("input", { type: "text", value: f.expression || "", placeholder: "B / A * 100", class: "wide", "data-path": "formulas." + i + ".expression",
          "aria-label": "Formula " + (i + 1) + " expression", oninput: function (e) { f.expression = e.target.value; ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }),
        h("button", { type: "button", class: "remove", "aria-label": "Remove formula " + (i + 1), text: "×",
          onclick: function () { q.formulas.splice(i, 1); ctx.changed({ render: true, run: true }); } })));
    });
  }


  function addSeries(q) {
    var last = q.series[q.series.length - 1];
    q.series.push({ event: typeof last.event === "string" ? last.event : "any", measure: "events", where: [] });
    ctx.changed({ render: true, run: true });
    var sel = document.querySelector('[data-path="series.' + (q.series.length - 1) + '.event"]');
    if (sel) sel.focus();
  }

  function addFormula(q) {
    var a = labelFor(0), b = labelFor(1);
    var labels = q.series.map(function (s, i) { return s.label || labelFor(i); });
    if (labels.length > 1) { a = labels[0]; b = labels[1]; }
    q.formulas.push({ label: "", expression: labels.length > 1 ? b + " / " + a : "" });
    ctx.changed({ render: true });
    var input = document.querySelector('[data-path="formulas.' + (q.formulas.length - 1) + '.expression"]');
    if (input) input.focus();
  }

  UI.register({
    key: "series",
    label: "Segmentation",
    grains: ["hour", "day", "week", "month", "quarter", "year", "total"],
    defaultGrain: "day",
    controls: { breakdownLimit: true, compare: true, chartType: true },
    breakdown: { extra: [["event", "event name"]] },
    columns: ["series", "value"],
    chart: "series",
    start: function (event) {
      return { series: [{ event: event || UI.topEvent(), measure: "unique_users" }] };
    },
    event: function (q) { return q.series[0].event; },
    editable: function (q) {
      if (!Array.isArray(q.series) || !q.series.length) q.series = this.start().series;
      q.series.forEach(function (s) { UI.editableEvent(s); UI.noteGiven(s, ["occurrence_scope"]); });
      q.formulas = q.formulas || [];
      if (q.formula) { q.formulas.push({ label: q.formula, expression: q.formula }); delete q.formula; }
    },
    clean: function (q, out) {
      out.series = q.series.map(function (s) {
        var c = UI.cleanEventFilter(s);
        c.measure = s.measure || "events";
        if (s.label) c.label = s.label;
        if (s.occurrence) {
          c.occurrence = s.occurrence;
          if (s.occurrence_scope && UI.emits(s, "occurrence_scope", "ever")) c.occurrence_scope = s.occurrence_scope;
        }
        return c;
      });
      var formulas = (q.formulas || []).filter(function (f) { return f.expression && f.expression.trim(); })
        .map(function (f) { return { label: f.label || f.expression, expression: f.expression }; });
      if (formulas.length) out.formulas = formulas;
    },
    render: function (el, q) {
      var series = h("div", { id: "series-list" });
      var formulas = h("div", { id: "formula-list" });
      renderSeries(series, q);
      renderFormulas(formulas, q);
      el.appendChild(h("section", { "aria-labelledby": "series-heading" },
        h("h2", { id: "series-heading", text: "Series" }), series,
        h("button", { type: "button", id: "add-series", class: "add", text: "+ Series", onclick: function () { addSeries(q); } })));
      el.appendChild(h("section", { "aria-labelledby": "formulas-heading" },
        h("h2", { id: "formulas-heading", text: "Formulas" }), formulas,
        h("button", { type: "button", id: "add-formula", class: "add", text: "+ Formula", onclick: function () { addFormula(q); } })));
    },
  });
})(window.segwiseUI);
