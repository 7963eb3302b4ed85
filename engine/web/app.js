/* segwise explorer: every click builds the query; the query lives in the URL.
 *
 * State is the query object itself (the JSON form of a query file, docs/queries.md) plus the
 * chart type and SQL dialect. Every control writes into the state, the URL hash is
 * `#q=<base64url(JSON)>&chart=...&dialect=...`, and a run POSTs the query to api/query.
 * Controls carry `data-path` (e.g. `series.0.where.1.op`): focus survives re-rendering and tests
 * find controls by it.
 */
(function () {
  "use strict";

  var S = {
    catalog: null,
    q: null,
    chart: "auto",
    dialect: "",
    echart: null,
    running: null, // AbortController of the query in flight
    sqlRunning: null,
    timer: null,
    autoRun: null,
    lastPushed: "",
  };
  var $ = function (id) { return document.getElementById(id); };

  // -- small helpers ---------------------------------------------------------------------------

  function h(tag, attrs) {
    var el = document.createElement(tag);
    var children = Array.prototype.slice.call(arguments, 2);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k, v === true ? "" : v);
    });
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(x); });
      else el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  }

  function option(value, text, selected) {
    return h("option", { value: value, selected: selected ? true : null, text: text });
  }

  function labelFor(index) {
    var letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    return index < 26 ? letters[index] : letters[Math.floor(index / 26) - 1] + letters[index % 26];
  }

  function b64url(text) {
    var bytes = new TextEncoder().encode(text);
    var bin = "";
    bytes.forEach(function (b) { bin += String.fromCharCode(b); });
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function unb64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  }

  function clone(x) { return JSON.parse(JSON.stringify(x)); }

  function formatValue(v) {
    if (v === null || v === undefined) return "null";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    return v.toLocaleString("en-US", { maximumFractionDigits: 4 });
  }

  // -- catalog lookups -------------------------------------------------------------------------

  function properties() { return (S.catalog && S.catalog.properties) || []; }

  function propInfo(name) {
    var props = properties();
    for (var i = 0; i < props.length; i++) if (props[i].name === name) return props[i];
    var bare = name.replace(/^(event|user)\./, "");
    for (var j = 0; j < props.length; j++) if (props[j].name === bare || props[j].name === "user." + bare) return props[j];
    return null;
  }

  function propType(name) { var p = propInfo(name); return p ? p.type : "string"; }

  function operatorsFor(name) {
    var ops = (S.catalog && S.catalog.operators) || {};
    return ops[propType(name)] || ops.string || ["eq"];
  }

  var OP_TEXT = {
    eq: "is", neq: "is not", in: "is one of", not_in: "is none of", gt: ">", gte: "≥", lt: "<", lte: "≤",
    between: "between", contains: "contains", not_contains: "does not contain", starts_with: "starts with",
    is_null: "is missing", is_not_null: "is present",
  };
  var LIST_OPS = { in: true, not_in: true };
  var NO_VALUE = { is_null: true, is_not_null: true };

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

  // -- the query -------------------------------------------------------------------------------

  function defaultQuery() {
    var events = (S.catalog && S.catalog.events) || [];
    var top = events.slice().sort(function (a, b) { return b.count - a.count; })[0];
    return {
      series: [{ event: top ? top.name : "any", measure: "unique_users" }],
      date_range: { last: "30d" },
      time_grain: "day",
    };
  }

  /* The query without empty parts: what goes into the URL and to the API. */
  function clean(q) {
    var out = {};
    out.series = q.series.map(function (s) {
      var c = { event: cleanEvent(s.event) };
      var where = cleanWhere(s.where);
      if (where.length) c.where = where;
      c.measure = s.measure || "events";
      if (s.label) c.label = s.label;
      if (s.occurrence) {
        c.occurrence = s.occurrence;
        if (s.occurrence_scope && s.occurrence_scope !== "ever") c.occurrence_scope = s.occurrence_scope;
      }
      return c;
    });
    var formulas = (q.formulas || []).filter(function (f) { return f.expression && f.expression.trim(); })
      .map(function (f) { return { label: f.label || f.expression, expression: f.expression }; });
    out.date_range = q.date_range;
    out.time_grain = q.time_grain || "day";
    var breakdown = (q.breakdown || []).filter(function (b) { return b; });
    if (breakdown.length) out.breakdown = breakdown;
    if (breakdown.length && q.breakdown_limit) out.breakdown_limit = q.breakdown_limit;
    if (formulas.length) out.formulas = formulas;
    var seg = cleanSegment(q.segment);
    if (seg) out.segment = seg;
    if (q.compare) out.compare = "previous_period";
    return out;
  }

  function cleanEvent(ev) {
    if (ev && typeof ev === "object") {
      return { any_of: ev.any_of.filter(function (m) { return m.event; }).map(function (m) {
        var where = cleanWhere(m.where);
        return where.length ? { event: m.event, where: where } : m.event;
      }) };
    }
    return ev;
  }

  function cleanWhere(where) {
    return (where || []).filter(function (c) { return c.property && c.op; }).map(function (c) {
      var out = { property: c.property, op: c.op };
      if (NO_VALUE[c.op]) return out;
      if (LIST_OPS[c.op] || c.op === "between") out.values = c.values || [];
      else out.value = c.value === undefined ? null : c.value;
      return out;
    });
  }

  function cleanSegment(seg) {
    if (!seg) return null;
    var out = {};
    ["did", "did_not"].forEach(function (k) {
      var part = seg[k];
      if (!part || !part.event) return;
      var c = { event: cleanEvent(part.event) };
      var where = cleanWhere(part.where);
      if (where.length) c.where = where;
      if (part.date_range) c.date_range = part.date_range;
      out[k] = c;
    });
    var uw = cleanWhere(seg.user_where);
    if (uw.length) out.user_where = uw;
    return Object.keys(out).length ? out : null;
  }

  /* Accept what a query file may hold (single condition, string breakdown, `formula`) for editing. */
  function editable(q) {
    q = clone(q || {});
    if (!Array.isArray(q.series) || !q.series.length) q.series = defaultQuery().series;
    q.series.forEach(function (s) {
      s.where = listOf(s.where);
      if (s.event && typeof s.event === "object") {
        s.event.any_of = (s.event.any_of || []).map(function (m) {
          return typeof m === "string" ? { event: m, where: [] } : { event: m.event, where: listOf(m.where) };
        });
      }
    });
    if (typeof q.breakdown === "string") q.breakdown = [q.breakdown];
    q.breakdown = q.breakdown || [];
    q.formulas = q.formulas || [];
    if (q.formula) { q.formulas.push({ label: q.formula, expression: q.formula }); delete q.formula; }
    q.date_range = q.date_range || { last: "30d" };
    q.time_grain = q.time_grain || "day";
    q.segment = q.segment || {};
    ["did", "did_not"].forEach(function (k) {
      var part = q.segment[k] || { event: "" };
      q.segment[k] = part;
      part.where = listOf(part.where);
      if (part.event && typeof part.event === "object") {
        part.event.any_of = (part.event.any_of || []).map(function (m) {
          return typeof m === "string" ? { event: m, where: [] } : { event: m.event, where: listOf(m.where) };
        });
      }
    });
    q.segment.user_where = listOf(q.segment.user_where);
    return q;
  }

  function listOf(x) { return !x ? [] : Array.isArray(x) ? x : [x]; }

  // -- URL -------------------------------------------------------------------------------------

  function currentKey() { return b64url(JSON.stringify(clean(S.q))); }

  function hashFor() {
    var parts = ["q=" + currentKey()];
    if (S.chart !== "auto") parts.push("chart=" + S.chart);
    if (S.dialect) parts.push("dialect=" + encodeURIComponent(S.dialect));
    return "#" + parts.join("&");
  }

  function writeUrl(push) {
    var hash = hashFor();
    if (hash === location.hash) return;
    if (push && hash !== S.lastPushed) { history.pushState(null, "", hash); S.lastPushed = hash; }
    else history.replaceState(null, "", hash);
  }

  function readUrl() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) params[kv.slice(0, i)] = kv.slice(i + 1);
    });
    S.chart = ["line", "bar"].indexOf(params.chart) >= 0 ? params.chart : "auto";
    S.dialect = params.dialect ? decodeURIComponent(params.dialect) : "";
    if (params.q) {
      try { S.q = editable(JSON.parse(unb64url(params.q))); return true; } catch (e) {
        showError({ message: "the query in the URL cannot be read: " + e.message, where: "URL" });
      }
    }
    S.q = editable(defaultQuery());
    return false;
  }

  // -- rendering the builder -------------------------------------------------------------------

  /* After a change: write the URL, re-render if the form's shape changed, run soon. */
  function changed(opts) {
    opts = opts || {};
    if (opts.render) renderBuilder();
    writeUrl(false);
    if (opts.run) scheduleRun();
  }

  function scheduleRun() {
    clearTimeout(S.autoRun);
    S.autoRun = setTimeout(run, 250);
  }

  function renderBuilder() {
    var focused = document.activeElement && document.activeElement.getAttribute("data-path");
    renderSeries();
    renderFormulas();
    renderBreakdown();
    renderTime();
    renderSegment();
    if (focused) {
      var el = document.querySelector('[data-path="' + focused + '"]');
      if (el) el.focus();
    }
  }

  function eventOptions(selected, opts) {
    opts = opts || {};
    var list = [];
    if (opts.none) list.push(option("", opts.none, !selected));
    list.push(option("any", "Any event", selected === "any"));
    var events = (S.catalog && S.catalog.events) || [];
    var known = false;
    events.forEach(function (e) {
      if (e.name === selected) known = true;
      list.push(option(e.name, e.name + "  (" + e.count.toLocaleString("en-US") + ")", e.name === selected));
    });
    if (selected && typeof selected === "string" && selected !== "any" && !known) list.push(option(selected, selected + " (unknown)", true));
    if (opts.combined) list.push(option("__combined", "Combined event…", selected && typeof selected === "object"));
    return list;
  }

  /* An event name or a combined event {any_of: [...]}, stored in holder[key]. */
  function eventPicker(holder, key, path, label, opts) {
    opts = opts || {};
    var value = holder[key];
    var combined = value && typeof value === "object";
    var select = h("select", {
      "data-path": path, "aria-label": label, class: "wide",
      onchange: function () {
        if (select.value === "__combined") {
          var first = typeof holder[key] === "string" && holder[key] && holder[key] !== "any" ? holder[key] : "";
          holder[key] = { any_of: [{ event: first, where: [] }, { event: "", where: [] }] };
        } else holder[key] = select.value;
        changed({ render: true, run: true });
      },
    }, eventOptions(combined ? value : value || "", { combined: true, none: opts.none }));
    var parts = [h("div", { class: "row" }, h("label", { class: "inline", text: opts.caption || "Event" }), select)];
    if (combined) {
      var members = value.any_of.map(function (m, i) {
        var mpath = path + ".any_of." + i;
        var msel = h("select", {
          "data-path": mpath + ".event", "aria-label": label + ": member " + (i + 1), class: "wide",
          onchange: function () { m.event = msel.value; changed({ render: true, run: true }); },
        }, eventOptions(m.event, { none: "choose an event" }));
        return h("div", { class: "member" },
          h("div", { class: "row" }, h("span", { class: "muted", text: i ? "or" : "any of" }), msel,
            h("button", { type: "button", class: "remove", "aria-label": "Remove member " + (i + 1), text: "×",
              onclick: function () {
                value.any_of.splice(i, 1);
                if (!value.any_of.length) holder[key] = "any";
                changed({ render: true, run: true });
              } })),
          filterList(m.where, mpath + ".where", "member " + (i + 1)));
      });
      parts.push(h("div", { class: "members" }, members,
        h("button", { type: "button", class: "add", "data-path": path + ".add_member", text: "+ Event",
          onclick: function () { value.any_of.push({ event: "", where: [] }); changed({ render: true }); } })));
    }
    return parts;
  }

  function propertySelect(value, path, label, onchange, opts) {
    opts = opts || {};
    var groups = {};
    var props = properties().filter(function (p) {
      if (opts.userOnly && p.source !== "user") return false;
      if (opts.numeric && ["integer", "float"].indexOf(p.type) < 0) return false;
      return true;
    });
    var list = [option("", opts.placeholder || "property…", !value)];
    (opts.extra || []).forEach(function (x) { list.push(option(x[0], x[1], value === x[0])); });
    var known = !value || (opts.extra || []).some(function (x) { return x[0] === value; });
    props.forEach(function (p) {
      var g = p.source === "user" ? "User properties" : "Event properties";
      if (!groups[g]) groups[g] = h("optgroup", { label: g });
      if (p.name === value) known = true;
      groups[g].appendChild(option(p.name, p.name + " · " + p.type, p.name === value));
    });
    Object.keys(groups).forEach(function (g) { list.push(groups[g]); });
    if (!known) list.push(option(value, value + " (unknown)", true));
    var select = h("select", { "data-path": path, "aria-label": label, onchange: function () { onchange(select.value); } }, list);
    return select;
  }

  function typed(text, type) {
    if (text === "") return "";
    if (type === "integer" || type === "float") {
      var n = Number(text);
      return text.trim() !== "" && isFinite(n) ? n : text;
    }
    if (type === "boolean") return text === "true" ? true : text === "false" ? false : text;
    return text;
  }

  function samplesList(prop) {
    var info = propInfo(prop);
    var id = "samples-" + (prop || "none").replace(/[^A-Za-z0-9_-]/g, "_");
    if (!document.getElementById(id)) {
      var dl = h("datalist", { id: id }, ((info && info.samples) || []).map(function (v) { return option(String(v), String(v)); }));
      document.body.appendChild(dl);
    }
    return id;
  }

  function valueInputs(cond, path, label) {
    var type = propType(cond.property);
    if (NO_VALUE[cond.op]) return [];
    var list = samplesList(cond.property);
    var inputType = type === "integer" || type === "float" ? "number" : type === "date" ? "date" : "text";
    if (type === "boolean" && !LIST_OPS[cond.op] && cond.op !== "between") {
      var bsel = h("select", { "data-path": path + ".value", "aria-label": label + " value",
        onchange: function () { cond.value = bsel.value === "true"; changed({ run: true }); } },
        option("true", "true", cond.value === true), option("false", "false", cond.value === false));
      if (cond.value !== true && cond.value !== false) cond.value = true;
      return [bsel];
    }
    if (LIST_OPS[cond.op]) {
      var text = (cond.values || []).map(String).join(", ");
      return [h("input", { type: "text", value: text, "data-path": path + ".values", "aria-label": label + " values (comma-separated)",
        placeholder: "a, b, c", list: list, class: "wide",
        oninput: function (e) {
          cond.values = e.target.value.split(",").map(function (v) { return v.trim(); })
            .filter(function (v) { return v !== ""; }).map(function (v) { return typed(v, type); });
          changed({});
        }, onchange: function () { scheduleRun(); } })];
    }
    if (cond.op === "between") {
      var vals = cond.values || ["", ""];
      cond.values = vals;
      return [0, 1].map(function (i) {
        return h("input", { type: inputType, value: vals[i] === undefined ? "" : String(vals[i]), step: "any",
          "data-path": path + ".values." + i, "aria-label": label + (i ? " upper bound" : " lower bound"), class: "narrow",
          oninput: function (e) { cond.values[i] = typed(e.target.value, type); changed({}); },
          onchange: function () { scheduleRun(); } });
      });
    }
    return [h("input", { type: inputType, step: "any", value: cond.value === undefined || cond.value === null ? "" : String(cond.value),
      "data-path": path + ".value", "aria-label": label + " value", list: list, class: "wide",
      oninput: function (e) { cond.value = typed(e.target.value, type); changed({}); },
      onchange: function () { scheduleRun(); } })];
  }

  function filterList(where, path, owner, opts) {
    opts = opts || {};
    var rows = where.map(function (cond, i) {
      var cpath = path + "." + i;
      var label = owner + " filter " + (i + 1);
      var ops = operatorsFor(cond.property);
      var opSel = h("select", { "data-path": cpath + ".op", "aria-label": label + " operator",
        onchange: function () {
          var before = cond.op;
          cond.op = opSel.value;
          if (LIST_OPS[cond.op] && !LIST_OPS[before]) { cond.values = cond.value !== undefined && cond.value !== "" && cond.value !== null ? [cond.value] : []; delete cond.value; }
          else if (cond.op === "between" && before !== "between") { cond.values = [cond.value === undefined ? "" : cond.value, ""]; delete cond.value; }
          else if (!LIST_OPS[cond.op] && cond.op !== "between" && (LIST_OPS[before] || before === "between")) { cond.value = (cond.values || [])[0]; delete cond.values; }
          if (NO_VALUE[cond.op]) { delete cond.value; delete cond.values; }
          changed({ render: true, run: true });
        } }, ops.map(function (op) { return option(op, OP_TEXT[op] || op, op === cond.op); }));
      if (ops.indexOf(cond.op) < 0) opSel.appendChild(option(cond.op, OP_TEXT[cond.op] || cond.op, true));
      return h("div", { class: "row filter" },
        propertySelect(cond.property, cpath + ".property", label + " property", function (v) {
          cond.property = v;
          var allowed = operatorsFor(v);
          if (allowed.indexOf(cond.op) < 0) { cond.op = allowed[0]; delete cond.values; cond.value = ""; }
          changed({ render: true, run: true });
        }, { userOnly: opts.userOnly }),
        opSel,
        valueInputs(cond, cpath, label),
        h("button", { type: "button", class: "remove", "aria-label": "Remove " + label, text: "×",
          onclick: function () { where.splice(i, 1); changed({ render: true, run: true }); } }));
    });
    return h("div", { class: "filters" }, rows,
      h("button", { type: "button", class: "add", "data-path": path + ".add", text: opts.addText || "+ Filter",
        onclick: function () { where.push({ property: "", op: "eq", value: "" }); changed({ render: true }); } }));
  }

  function measureControls(s, i) {
    var m = parseMeasure(s.measure);
    var path = "series." + i + ".measure";
    var label = "Series " + (i + 1) + " measure";
    function update() { s.measure = buildMeasure(m); changed({ render: true, run: true }); }
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
        onchange: function (e) { m.n = parseInt(e.target.value, 10) || m.n; s.measure = buildMeasure(m); changed({ run: true }); } }));
    }
    if (["sum", "avg", "min", "max", "median", "pNN"].indexOf(m.kind) >= 0) {
      extra.push(propertySelect(m.prop, path + ".property", label + " property", function (v) { m.prop = v; update(); },
        { numeric: true, placeholder: "numeric property…" }));
    }
    if (m.kind === "custom") {
      extra.push(h("input", { type: "text", value: m.text || "", placeholder: "user_avg:events, frequency, …", class: "wide",
        "data-path": path + ".text", "aria-label": label + " (as written in a query file)",
        oninput: function (e) { m.text = e.target.value; s.measure = buildMeasure(m); changed({}); },
        onchange: function () { scheduleRun(); } }));
    }
    return h("div", { class: "row" }, h("label", { class: "inline", text: "Measure" }), kind, extra);
  }

  function renderSeries() {
    var holder = $("series-list");
    holder.textContent = "";
    S.q.series.forEach(function (s, i) {
      var name = labelFor(i);
      var occ = h("select", { "data-path": "series." + i + ".occurrence", "aria-label": "Series " + (i + 1) + " occurrence",
        onchange: function () { if (occ.value) s.occurrence = occ.value; else { delete s.occurrence; delete s.occurrence_scope; } changed({ render: true, run: true }); } },
        option("", "every time", !s.occurrence), option("first", "first time", s.occurrence === "first"), option("last", "last time", s.occurrence === "last"));
      var scope = s.occurrence ? h("select", { "data-path": "series." + i + ".occurrence_scope", "aria-label": "Series " + (i + 1) + " occurrence scope",
        onchange: function () { s.occurrence_scope = scope.value; changed({ run: true }); } },
        option("ever", "ever", (s.occurrence_scope || "ever") === "ever"), option("range", "in the range", s.occurrence_scope === "range")) : null;
      holder.appendChild(h("div", { class: "card series", "data-series": i },
        h("div", { class: "head" },
          h("span", { class: "badge", text: name }),
          h("input", { type: "text", value: s.label || "", placeholder: name + " (label)", "data-path": "series." + i + ".label",
            "aria-label": "Series " + (i + 1) + " label",
            oninput: function (e) { s.label = e.target.value.trim() || undefined; changed({}); }, onchange: function () { scheduleRun(); } }),
          S.q.series.length > 1 ? h("button", { type: "button", class: "remove", "aria-label": "Remove series " + (i + 1), text: "×",
            onclick: function () { S.q.series.splice(i, 1); changed({ render: true, run: true }); } }) : null),
        eventPicker(s, "event", "series." + i + ".event", "Series " + (i + 1) + " event"),
        measureControls(s, i),
        h("div", { class: "row" }, h("label", { class: "inline", text: "Count" }), occ, scope),
        filterList(s.where, "series." + i + ".where", "Series " + (i + 1))));
    });
  }

  function renderFormulas() {
    var holder = $("formula-list");
    holder.textContent = "";
    S.q.formulas.forEach(function (f, i) {
      holder.appendChild(h("div", { class: "row" },
        h("input", { type: "text", value: f.label || "", placeholder: "label", class: "narrow", "data-path": "formulas." + i + ".label",
          "aria-label": "Formula " + (i + 1) + " label", oninput: function (e) { f.label = e.target.value; changed({}); }, onchange: function () { scheduleRun(); } }),
        h("input", { type: "text", value: f.expression || "", placeholder: "B / A * 100", class: "wide", "data-path": "formulas." + i + ".expression",
          "aria-label": "Formula " + (i + 1) + " expression", oninput: function (e) { f.expression = e.target.value; changed({}); }, onchange: function () { scheduleRun(); } }),
        h("button", { type: "button", class: "remove", "aria-label": "Remove formula " + (i + 1), text: "×",
          onclick: function () { S.q.formulas.splice(i, 1); changed({ render: true, run: true }); } })));
    });
  }

  function renderBreakdown() {
    var holder = $("breakdown-list");
    holder.textContent = "";
    var extra = [["event", "event name"]];
    if (cleanSegment(S.q.segment)) extra.push(["segment", "in / not in the segment"]);
    S.q.breakdown.forEach(function (b, i) {
      holder.appendChild(h("div", { class: "row" },
        propertySelect(b, "breakdown." + i, "Breakdown " + (i + 1), function (v) { S.q.breakdown[i] = v; changed({ render: true, run: true }); },
          { extra: extra }),
        h("button", { type: "button", class: "remove", "aria-label": "Remove breakdown " + (i + 1), text: "×",
          onclick: function () { S.q.breakdown.splice(i, 1); changed({ render: true, run: true }); } })));
    });
    $("add-breakdown").hidden = S.q.breakdown.length >= 5;
    $("breakdown-limit").value = S.q.breakdown_limit || "";
  }

  /* A date range editor for holder[key]; allowEver adds "ever" (no range: the key is removed). */
  function rangeEditor(holder, key, path, allowEver) {
    var r = holder[key];
    var mode = !r ? "ever" : r.last ? "last" : "between";
    var parts = [];
    var modeSel = h("select", { "data-path": path + ".mode", "aria-label": "Date range kind",
      onchange: function () {
        if (modeSel.value === "ever") delete holder[key];
        else if (modeSel.value === "last") holder[key] = { last: "30d" };
        else holder[key] = defaultBetween();
        changed({ render: true, run: true });
      } },
      allowEver ? option("ever", "Ever", mode === "ever") : null,
      option("last", "Last", mode === "last"), option("between", "Between", mode === "between"));
    parts.push(modeSel);
    if (mode === "last") {
      var match = /^(\d+)([hdwmqy])$/.exec(r.last) || [null, "30", "d"];
      var amount = h("input", { type: "number", min: 1, value: match[1], class: "narrow", "data-path": path + ".amount", "aria-label": "Range length",
        oninput: function () { if (parseInt(amount.value, 10) > 0) { holder[key] = { last: parseInt(amount.value, 10) + unit.value }; changed({}); } },
        onchange: function () { scheduleRun(); } });
      var unit = h("select", { "data-path": path + ".unit", "aria-label": "Range unit",
        onchange: function () { holder[key] = { last: (parseInt(amount.value, 10) || 1) + unit.value }; changed({ run: true }); } },
        [["h", "hours"], ["d", "days"], ["w", "weeks"], ["m", "months"], ["q", "quarters"], ["y", "years"]].map(function (u) { return option(u[0], u[1], u[0] === match[2]); }));
      parts.push(amount, unit);
    } else if (mode === "between") {
      ["from", "to"].forEach(function (end) {
        var text = String(r[end] || "");
        var isDate = /^\d{4}-\d{2}-\d{2}$/.test(text);
        parts.push(h("input", { type: isDate || !text ? "date" : "text", value: text, "data-path": path + "." + end,
          "aria-label": end === "from" ? "From (inclusive)" : "To (exclusive)",
          oninput: function (e) { r[end] = e.target.value; changed({}); }, onchange: function () { scheduleRun(); } }));
      });
    }
    return h("div", { class: "row" }, h("label", { class: "inline", text: allowEver ? "When" : "Range" }), parts);
  }

  function defaultBetween() {
    var now = S.catalog && S.catalog.project.now ? new Date(S.catalog.project.now + "Z") : new Date();
    var to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    var from = new Date(to.getTime() - 30 * 86400000);
    return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
  }

  function renderTime() {
    var holder = $("range");
    holder.textContent = "";
    holder.appendChild(rangeEditor(S.q, "date_range", "date_range", false));
    $("time-grain").value = S.q.time_grain;
    $("compare").checked = !!S.q.compare;
  }

  function renderSegment() {
    var holder = $("segment");
    holder.textContent = "";
    var seg = S.q.segment;
    ["did", "did_not"].forEach(function (k) {
      var part = seg[k];
      var name = k === "did" ? "Did" : "Did not";
      holder.appendChild(h("div", { class: "card segment-part" },
        eventPicker(part, "event", "segment." + k + ".event", "Users who " + (k === "did" ? "did" : "did not do"),
          { none: "—", caption: name }),
        part.event ? filterList(part.where, "segment." + k + ".where", name) : null,
        part.event ? rangeEditor(part, "date_range", "segment." + k + ".date_range", true) : null));
    });
    holder.appendChild(h("div", { class: "card segment-part" }, h("div", { class: "muted", text: "User properties" }),
      filterList(seg.user_where, "segment.user_where", "User property", { userOnly: true, addText: "+ User filter" })));
  }

  // -- running ---------------------------------------------------------------------------------

  function headers(extra) {
    var hs = Object.assign({ "Content-Type": "application/json" }, extra || {});
    var token = sessionStorage.getItem("segwise-token");
    if (token) hs.Authorization = "Bearer " + token;
    return hs;
  }

  function showError(err) {
    var box = $("error");
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    box.hidden = false;
    box.textContent = (err.where ? err.where + ": " : "") + err.message + (err.hint ? "\nHint: " + err.hint : "");
    if (err.kind === "auth") {
      var input = h("input", { type: "password", "aria-label": "API token", placeholder: "token" });
      box.appendChild(h("div", { class: "row" }, input, h("button", { type: "button", text: "Use token",
        onclick: function () { sessionStorage.setItem("segwise-token", input.value); boot(); } })));
      input.focus();
    }
  }

  function setRunning(on) {
    $("progress").hidden = !on;
    $("cancel").hidden = !on;
    if (S.timer) { clearInterval(S.timer); S.timer = null; }
    if (on) {
      var started = performance.now();
      var tick = function () { $("status").textContent = "running… " + ((performance.now() - started) / 1000).toFixed(1) + " s"; };
      tick();
      S.timer = setInterval(tick, 100);
    }
  }

  function run() {
    clearTimeout(S.autoRun);
    if (!S.catalog) return;
    var query = clean(S.q);
    var body = JSON.stringify(query);
    var key = b64url(body);
    writeUrl(true);
    if (S.running) S.running.abort();
    var controller = new AbortController();
    S.running = controller;
    var results = $("results");
    results.dataset.state = "running";
    results.dataset.key = key;
    setRunning(true);
    var started = performance.now();
    loadSql(query, key);
    fetch("api/query", { method: "POST", body: body, headers: headers(), signal: controller.signal })
      .then(function (res) {
        return res.json().then(function (data) { return { ok: res.ok, status: res.status, data: data }; });
      })
      .then(function (res) {
        if (S.running !== controller) return;
        if (!res.ok) {
          showError(res.data.error || { message: "HTTP " + res.status });
          results.dataset.state = "error";
          $("status").textContent = "error";
          return;
        }
        showError(null);
        draw(res.data, query);
        results.dataset.state = "done";
        $("status").textContent = res.data.length.toLocaleString("en-US") + " rows · " + Math.round(performance.now() - started) + " ms";
      })
      .catch(function (e) {
        if (S.running !== controller) return;
        if (e.name === "AbortError") { results.dataset.state = "cancelled"; $("status").textContent = "cancelled"; return; }
        showError({ message: "the server could not be reached (" + e.message + ")" });
        results.dataset.state = "error";
        $("status").textContent = "error";
      })
      .finally(function () {
        if (S.running === controller) { S.running = null; setRunning(false); if (results.dataset.state !== "running") { } }
      });
  }

  function cancel() {
    if (S.running) S.running.abort();
  }

  function loadSql(query, key) {
    if (S.sqlRunning) S.sqlRunning.abort();
    var controller = new AbortController();
    S.sqlRunning = controller;
    var dialect = S.dialect || (S.catalog && S.catalog.project.dialect) || "";
    var pre = $("sql");
    pre.dataset.state = "running";
    fetch("api/sql?dialect=" + encodeURIComponent(dialect), { method: "POST", body: JSON.stringify(query), headers: headers(), signal: controller.signal })
      .then(function (res) { return res.json().then(function (d) { return { ok: res.ok, data: d }; }); })
      .then(function (res) {
        pre.textContent = res.ok ? res.data.sql : "-- " + (res.data.error.where ? res.data.error.where + ": " : "") + res.data.error.message;
        pre.dataset.key = key;
        pre.dataset.dialect = dialect;
        pre.dataset.state = res.ok ? "done" : "error";
      })
      .catch(function (e) { if (e.name !== "AbortError") { pre.textContent = "-- " + e.message; pre.dataset.state = "error"; } });
  }

  // -- results -----------------------------------------------------------------------------------

  function draw(rows, query) {
    var opt = segwiseChart.option(rows, { type: S.chart });
    var meta = opt.segwise;
    delete opt.segwise;
    if (!S.echart) {
      S.echart = echarts.init($("chart"), null, { renderer: "svg" });
      window.addEventListener("resize", function () { S.echart.resize(); });
    }
    S.echart.setOption(opt, true);
    var note = $("chart-note");
    note.hidden = !meta.truncated;
    note.textContent = meta.truncated ? meta.truncated + " more lines are in the table (set a breakdown limit to merge them into Other)" : "";
    drawTable(rows, query);
    window.segwise = { chart: S.echart, rows: rows, query: query, meta: meta };
  }

  function drawTable(rows, query) {
    var table = $("table");
    table.textContent = "";
    var columns = ["bucket"].concat(segwiseChart.groupColumns(rows), ["series", "value"]).filter(function (c, i, all) { return all.indexOf(c) === i; });
    var withTime = rows.some(function (r) { return String(r.bucket).slice(11, 16) !== "00:00"; });
    var shown = rows.slice(0, 5000);
    table.appendChild(h("thead", {}, h("tr", {}, columns.map(function (c) { return h("th", { scope: "col", text: c }); }))));
    var body = h("tbody", {});
    shown.forEach(function (r) {
      body.appendChild(h("tr", {}, columns.map(function (c) {
        var v = r[c];
        if (c === "value") return h("td", { class: "num", "data-value": JSON.stringify(v), text: formatValue(v) });
        if (c === "bucket") return h("td", { "data-value": v, text: segwiseChart.bucketLabel(v, withTime) });
        return h("td", { text: v === null ? "∅" : String(v) });
      })));
    });
    table.appendChild(body);
    $("row-count").textContent = "(" + rows.length.toLocaleString("en-US") + " rows" + (rows.length > shown.length ? ", first " + shown.length + " shown" : "") + ")";
  }

  // -- wiring ------------------------------------------------------------------------------------

  function wire() {
    $("builder").addEventListener("submit", function (e) { e.preventDefault(); run(); });
    $("builder").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.isComposing && e.target.tagName !== "BUTTON" && e.target.tagName !== "TEXTAREA") {
        e.preventDefault();
        run();
      }
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && S.running) { e.preventDefault(); cancel(); } });
    $("cancel").addEventListener("click", cancel);
    $("add-series").addEventListener("click", function () {
      var last = S.q.series[S.q.series.length - 1];
      S.q.series.push({ event: typeof last.event === "string" ? last.event : "any", measure: "events", where: [] });
      changed({ render: true, run: true });
      var sel = document.querySelector('[data-path="series.' + (S.q.series.length - 1) + '.event"]');
      if (sel) sel.focus();
    });
    $("add-formula").addEventListener("click", function () {
      var a = labelFor(0), b = labelFor(1);
      var labels = S.q.series.map(function (s, i) { return s.label || labelFor(i); });
      if (labels.length > 1) { a = labels[0]; b = labels[1]; }
      S.q.formulas.push({ label: "", expression: labels.length > 1 ? b + " / " + a : "" });
      changed({ render: true });
      var input = document.querySelector('[data-path="formulas.' + (S.q.formulas.length - 1) + '.expression"]');
      if (input) input.focus();
    });
    $("add-breakdown").addEventListener("click", function () {
      S.q.breakdown.push("");
      changed({ render: true });
      var sel = document.querySelector('[data-path="breakdown.' + (S.q.breakdown.length - 1) + '"]');
      if (sel) sel.focus();
    });
    $("breakdown-limit").addEventListener("input", function (e) {
      var n = parseInt(e.target.value, 10);
      if (n > 0) S.q.breakdown_limit = n; else delete S.q.breakdown_limit;
      changed({});
    });
    $("breakdown-limit").addEventListener("change", scheduleRun);
    $("time-grain").addEventListener("change", function (e) { S.q.time_grain = e.target.value; changed({ run: true }); });
    $("compare").addEventListener("change", function (e) {
      if (e.target.checked) S.q.compare = "previous_period"; else delete S.q.compare;
      changed({ run: true });
    });
    document.querySelectorAll('input[name="chart-type"]').forEach(function (r) {
      r.addEventListener("change", function () {
        S.chart = r.value;
        writeUrl(false);
        if (window.segwise && window.segwise.rows) draw(window.segwise.rows, window.segwise.query);
      });
    });
    $("dialect").addEventListener("change", function (e) {
      S.dialect = e.target.value === S.catalog.project.dialect ? "" : e.target.value;
      writeUrl(false);
      loadSql(clean(S.q), currentKey());
    });
    $("copy-sql").addEventListener("click", function () {
      if (navigator.clipboard) navigator.clipboard.writeText($("sql").textContent);
    });
    $("example").addEventListener("change", function (e) {
      var ex = (S.examples || [])[parseInt(e.target.value, 10)];
      if (!ex) return;
      S.q = editable(ex.query);
      changed({ render: true });
      run();
    });
    window.addEventListener("popstate", function () { fromUrl(); });
    window.addEventListener("hashchange", function () { fromUrl(); });
  }

  function fromUrl() {
    if ("#" + location.hash.replace(/^#/, "") === hashFor()) return;
    var had = readUrl();
    syncChrome();
    renderBuilder();
    if (had) run();
  }

  function syncChrome() {
    document.querySelectorAll('input[name="chart-type"]').forEach(function (r) { r.checked = r.value === S.chart; });
    var dialect = $("dialect");
    dialect.textContent = "";
    S.catalog.dialects.forEach(function (d) {
      dialect.appendChild(option(d, d + (d === S.catalog.project.dialect ? " (warehouse)" : ""), d === (S.dialect || S.catalog.project.dialect)));
    });
  }

  function boot() {
    fetch("api/catalog", { headers: headers() })
      .then(function (res) { return res.json().then(function (d) { return { ok: res.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { showError(res.data.error); $("project-info").textContent = "catalog unavailable"; return; }
        showError(null);
        S.catalog = res.data;
        var p = S.catalog.project;
        $("project-info").textContent = p.dialect + " · " + S.catalog.events.length + " events · " + S.catalog.properties.length +
          " properties · " + p.timezone + (p.now ? " · now = " + p.now.replace("T00:00:00", "") : "");
        var had = readUrl();
        syncChrome();
        renderBuilder();
        writeUrl(false);
        loadExamples();
        run();
        document.body.dataset.ready = "true";
        void had;
      })
      .catch(function (e) { showError({ message: "the server could not be reached (" + e.message + ")" }); });
  }

  function loadExamples() {
    fetch("api/examples", { headers: headers() })
      .then(function (res) { return res.ok ? res.json() : []; })
      .then(function (list) {
        S.examples = list;
        var sel = $("example");
        sel.parentNode.hidden = !list.length;
        list.forEach(function (ex, i) { sel.appendChild(option(String(i), ex.question, false)); });
      })
      .catch(function () { $("example").parentNode.hidden = true; });
  }

  wire();
  boot();
})();
