/* segwise explorer: the pieces every builder shares, and the registry of analyses.
 *
 * A builder edits one analysis of the query (docs/queries.md): segmentation (`series`), lifecycle,
 * stickiness, ... Each is one file (`builder_<key>.js`) that calls `segwiseUI.register({...})`:
 *
 *   key           the query key that selects it ("series", "lifecycle", ...)
 *   label         its name in the analysis picker
 *   grains        the time grains it offers; defaultGrain when the current one is not among them
 *   ownGrain      true when its grain means something of its own (a funnel's entry buckets,
 *                 retention's cohort bucket and period): switching to or from it, the grain
 *                 starts at the new analysis' default instead of carrying over
 *   controls      the shared controls it uses: {breakdownLimit, compare, chartType} (all false when absent)
 *   breakdown     how the breakdown picker is limited: {userOnly, extra: [[value, text], ...]}
 *   columns       its result columns after the breakdown ones (the table's last columns)
 *   chart         the chart kind drawing its rows (segwiseChart.register in chart_<kind>.js)
 *   start(event)  its part of a new query when the picker switches to it (event: the event of the
 *                 analysis being left, or nothing)
 *   event(q)      its (first) event, carried to the next analysis the picker switches to
 *   editable(q)   make its part of a query (as a query file holds it) editable, in place
 *   clean(q, out) write its part of the query, without empty parts, into out
 *   render(el, q) build its controls into el (controls carry data-path; see app.js)
 *
 *   lead          its first column when it is not `bucket` (retention: `cohort`; null shows as ∅)
 *   readout(rows) an element shown under the chart, or null (a funnel's time to convert,
 *                 retention's cohort x period heatmap)
 *
 * The page (app.js) owns the shared parts: date range, grain, breakdown, segment, running,
 * the URL, the table. Nothing here knows an analysis by name.
 */
(function (root) {
  "use strict";

  /* What the page gives the builders: the catalog and what to call after a change. */
  var ctx = {
    catalog: null,
    changed: function () {},
    scheduleRun: function () {},
  };

  var analyses = [];

  function register(def) {
    analyses.push(def);
  }

  /* The analysis a query asks for: the first whose key it holds, else the first registered. */
  function analysisOf(q) {
    var found = analyses.filter(function (a) {
      var part = q ? q[a.key] : undefined;
      return part !== undefined && part !== null && !(Array.isArray(part) && !part.length);
    });
    return found.length === 1 ? found[0] : analysisByKey("series") || analyses[0];
  }

  function analysisByKey(key) {
    for (var i = 0; i < analyses.length; i++) if (analyses[i].key === key) return analyses[i];
    return null;
  }

  /* An event as a query file may hold it ({event, where}, any_of members as names) made editable. */
  function editableEvent(holder) {
    holder.where = listOf(holder.where);
    if (holder.event && typeof holder.event === "object") {
      holder.event.any_of = (holder.event.any_of || []).map(function (m) {
        return typeof m === "string" ? { event: m, where: [] } : { event: m.event, where: listOf(m.where) };
      });
    }
    return holder;
  }

  /* {event, where} without empty parts (a series, a segment part, an analysis' event). */
  function cleanEventFilter(part) {
    var c = { event: cleanEvent(part.event) };
    var where = cleanWhere(part.where);
    if (where.length) c.where = where;
    return c;
  }

  /* A section editing an analysis' event ({event, where}) at q[key], with a note under the heading. */
  function eventSection(q, key, title, note, extra) {
    var part = q[key];
    return h("section", { "aria-labelledby": key + "-heading" },
      h("h2", { id: key + "-heading", text: title }),
      h("p", { class: "muted note", text: note }),
      h("div", { class: "card analysis-event" },
        eventPicker(part, "event", key + ".event", title + " event"),
        filterList(part.where, key + ".where", title)),
      extra || null);
  }

  function topEvent() {
    var events = (ctx.catalog && ctx.catalog.events) || [];
    var top = events.slice().sort(function (a, b) { return b.count - a.count; })[0];
    return top ? top.name : "any";
  }

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

  function properties() { return (ctx.catalog && ctx.catalog.properties) || []; }

  function propInfo(name) {
    var props = properties();
    for (var i = 0; i < props.length; i++) if (props[i].name === name) return props[i];
    var bare = name.replace(/^(event|user)\./, "");
    for (var j = 0; j < props.length; j++) if (props[j].name === bare || props[j].name === "user." + bare) return props[j];
    return null;
  }

  function propType(name) { var p = propInfo(name); return p ? p.type : "string"; }

  function operatorsFor(name) {
    var ops = (ctx.catalog && ctx.catalog.operators) || {};
    return ops[propType(name)] || ops.string || ["eq"];
  }

  var OP_TEXT = {
    eq: "is", neq: "is not", in: "is one of", not_in: "is none of", gt: ">", gte: "≥", lt: "<", lte: "≤",
    between: "between", contains: "contains", not_contains: "does not contain", starts_with: "starts with",
    is_null: "is missing", is_not_null: "is present",
  };
  var LIST_OPS = { in: true, not_in: true };
  var NO_VALUE = { is_null: true, is_not_null: true };

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
      var c = cleanEventFilter(part);
      if (part.date_range) c.date_range = part.date_range;
      var having = cleanHaving(part.having);
      if (having) c.having = having;
      out[k] = c;
    });
    var cohorts = (seg.cohort || []).filter(function (name) { return name; });
    if (cohorts.length) out.cohort = cohorts.length === 1 ? cohorts[0] : cohorts;
    var uw = cleanWhere(seg.user_where);
    if (uw.length) out.user_where = uw;
    return Object.keys(out).length ? out : null;
  }


  /* A `having` threshold ({measure, op, value | values}) without empty parts; null when unset. */
  function cleanHaving(having) {
    if (!having || !having.measure) return null;
    var out = { measure: having.measure, op: having.op };
    if (having.op === "between") out.values = having.values || [];
    else out.value = having.value === undefined ? null : having.value;
    return out;
  }

  var HAVING_OPS = ["gte", "gt", "eq", "neq", "lte", "lt", "between"];

  /* The `having` editor of a segment condition: how many events, active days, or sum/avg/min/max
   * of a numeric property the unit's matching events must have (none: at least one event). */
  function havingEditor(part, path, label) {
    var having = part.having || { measure: "", op: "gte", value: "" };
    var measures = [option("", "at least once", !having.measure), option("events", "events", having.measure === "events"),
      option("active_days", "active days", having.measure === "active_days")];
    properties().forEach(function (p) {
      if (p.source !== "event" || ["integer", "float"].indexOf(p.type) < 0) return;
      ["sum", "avg", "min", "max"].forEach(function (agg) {
        var m = agg + ":" + p.name;
        measures.push(option(m, agg + " of " + p.name, having.measure === m));
      });
    });
    var msel = h("select", { "data-path": path + ".measure", "aria-label": label + " having measure",
      onchange: function () {
        if (!msel.value) delete part.having;
        else { having.measure = msel.value; part.having = having; }
        ctx.changed({ render: true, run: true });
      } }, measures);
    var parts = [h("label", { class: "inline", text: "Having" }), msel];
    if (having.measure) {
      var osel = h("select", { "data-path": path + ".op", "aria-label": label + " having operator",
        onchange: function () {
          var between = osel.value === "between";
          if (between && having.op !== "between") { having.values = [having.value === undefined ? "" : having.value, ""]; delete having.value; }
          if (!between && having.op === "between") { having.value = (having.values || [""])[0]; delete having.values; }
          having.op = osel.value;
          ctx.changed({ render: true, run: true });
        } }, HAVING_OPS.map(function (op) { return option(op, OP_TEXT[op] || op, op === having.op); }));
      parts.push(osel);
      var number = function (v) { return v === "" || !isFinite(Number(v)) ? v : Number(v); };
      if (having.op === "between") {
        having.values = having.values || ["", ""];
        [0, 1].forEach(function (i) {
          parts.push(h("input", { type: "number", step: "any", class: "narrow", value: String(having.values[i]),
            "data-path": path + ".values." + i, "aria-label": label + " having " + (i ? "upper bound" : "lower bound"),
            oninput: function (e) { having.values[i] = number(e.target.value); ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }));
        });
      } else {
        parts.push(h("input", { type: "number", step: "any", class: "narrow", value: having.value === undefined ? "" : String(having.value),
          "data-path": path + ".value", "aria-label": label + " having value",
          oninput: function (e) { having.value = number(e.target.value); ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }));
      }
    }
    return h("div", { class: "row having" }, parts);
  }

  /* The project's named cohorts and categories (the catalog's `cohorts`, `categories`). */
  function cohortNames() { return (ctx.catalog && ctx.catalog.cohorts) || []; }
  function categoryChoices() {
    return ((ctx.catalog && ctx.catalog.categories) || []).map(function (c) {
      return [c.name, c.name + " · category (" + c.labels.join(", ") + ")"];
    });
  }

  function listOf(x) { return !x ? [] : Array.isArray(x) ? x : [x]; }

  /* Which of ``keys`` the query itself gives (before editable() fills in defaults): a value the
   * query states is written back even when it is the default (an example's `periods: 8`). */
  function noteGiven(part, keys) {
    var list = part._given || [];
    keys.forEach(function (k) { if (part[k] !== undefined && part[k] !== null && list.indexOf(k) < 0) list.push(k); });
    part._given = list;
    return part;
  }

  function given(part, key) { return (part._given || []).indexOf(key) >= 0; }

  /* Whether clean() writes part[key]: it is not the default, or the query gave it. */
  function emits(part, key, dflt) { return part[key] !== dflt || given(part, key); }

  /* part[key] as the person set it with its control: no longer "given", so clean() leaves it out
   * when it is the default (a stated default is kept only until its control is changed). */
  function setByHand(part, key, value) {
    part[key] = value;
    part._given = (part._given || []).filter(function (k) { return k !== key; });
  }

  /* The project's units (the catalog's `units`): what a query may count instead of users. */
  function unitNames() {
    return ((ctx.catalog && ctx.catalog.units) || []).map(function (u) { return u.name; });
  }

  function eventOptions(selected, opts) {
    opts = opts || {};
    var list = [];
    if (opts.none) list.push(option("", opts.none, !selected));
    list.push(option("any", "Any event", selected === "any"));
    var events = (ctx.catalog && ctx.catalog.events) || [];
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
        ctx.changed({ render: true, run: true });
      },
    }, eventOptions(combined ? value : value || "", { combined: true, none: opts.none }));
    var parts = [h("div", { class: "row" }, h("label", { class: "inline", text: opts.caption || "Event" }), select)];
    if (combined) {
      var members = value.any_of.map(function (m, i) {
        var mpath = path + ".any_of." + i;
        var msel = h("select", {
          "data-path": mpath + ".event", "aria-label": label + ": member " + (i + 1), class: "wide",
          onchange: function () { m.event = msel.value; ctx.changed({ render: true, run: true }); },
        }, eventOptions(m.event, { none: "choose an event" }));
        return h("div", { class: "member" },
          h("div", { class: "row" }, h("span", { class: "muted", text: i ? "or" : "any of" }), msel,
            h("button", { type: "button", class: "remove", "aria-label": "Remove member " + (i + 1), text: "×",
              onclick: function () {
                value.any_of.splice(i, 1);
                if (!value.any_of.length) holder[key] = "any";
                ctx.changed({ render: true, run: true });
              } })),
          filterList(m.where, mpath + ".where", "member " + (i + 1)));
      });
      parts.push(h("div", { class: "members" }, members,
        h("button", { type: "button", class: "add", "data-path": path + ".add_member", text: "+ Event",
          onclick: function () { value.any_of.push({ event: "", where: [] }); ctx.changed({ render: true }); } })));
    }
    return parts;
  }

  function propertySelect(value, path, label, onchange, opts) {
    opts = opts || {};
    var groups = {};
    var props = properties().filter(function (p) {
      if (opts.userOnly && p.source !== "user") return false;
      if (opts.eventOnly && p.source !== "event") return false;
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
        onchange: function () { cond.value = bsel.value === "true"; ctx.changed({ run: true }); } },
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
          ctx.changed({});
        }, onchange: function () { ctx.scheduleRun(); } })];
    }
    if (cond.op === "between") {
      var vals = cond.values || ["", ""];
      cond.values = vals;
      return [0, 1].map(function (i) {
        return h("input", { type: inputType, value: vals[i] === undefined ? "" : String(vals[i]), step: "any",
          "data-path": path + ".values." + i, "aria-label": label + (i ? " upper bound" : " lower bound"), class: "narrow",
          oninput: function (e) { cond.values[i] = typed(e.target.value, type); ctx.changed({}); },
          onchange: function () { ctx.scheduleRun(); } });
      });
    }
    return [h("input", { type: inputType, step: "any", value: cond.value === undefined || cond.value === null ? "" : String(cond.value),
      "data-path": path + ".value", "aria-label": label + " value", list: list, class: "wide",
      oninput: function (e) { cond.value = typed(e.target.value, type); ctx.changed({}); },
      onchange: function () { ctx.scheduleRun(); } })];
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
          ctx.changed({ render: true, run: true });
        } }, ops.map(function (op) { return option(op, OP_TEXT[op] || op, op === cond.op); }));
      if (ops.indexOf(cond.op) < 0) opSel.appendChild(option(cond.op, OP_TEXT[cond.op] || cond.op, true));
      return h("div", { class: "row filter" },
        propertySelect(cond.property, cpath + ".property", label + " property", function (v) {
          cond.property = v;
          var allowed = operatorsFor(v);
          if (allowed.indexOf(cond.op) < 0) { cond.op = allowed[0]; delete cond.values; cond.value = ""; }
          ctx.changed({ render: true, run: true });
        }, { userOnly: opts.userOnly }),
        opSel,
        valueInputs(cond, cpath, label),
        h("button", { type: "button", class: "remove", "aria-label": "Remove " + label, text: "×",
          onclick: function () { where.splice(i, 1); ctx.changed({ render: true, run: true }); } }));
    });
    return h("div", { class: "filters" }, rows, opts.noAdd ? null :
      h("button", { type: "button", class: "add", "data-path": path + ".add", text: opts.addText || "+ Filter",
        onclick: function () { where.push({ property: "", op: "eq", value: "" }); ctx.changed({ render: true }); } }));
  }


  function rangeEditor(holder, key, path, allowEver) {
    var r = holder[key];
    var mode = !r ? "ever" : r.last ? "last" : "between";
    var parts = [];
    var modeSel = h("select", { "data-path": path + ".mode", "aria-label": "Date range kind",
      onchange: function () {
        if (modeSel.value === "ever") delete holder[key];
        else if (modeSel.value === "last") holder[key] = { last: "30d" };
        else holder[key] = defaultBetween();
        ctx.changed({ render: true, run: true });
      } },
      allowEver ? option("ever", "Ever", mode === "ever") : null,
      option("last", "Last", mode === "last"), option("between", "Between", mode === "between"));
    parts.push(modeSel);
    if (mode === "last") {
      var match = /^(\d+)([hdwmqy])$/.exec(r.last) || [null, "30", "d"];
      var amount = h("input", { type: "number", min: 1, value: match[1], class: "narrow", "data-path": path + ".amount", "aria-label": "Range length",
        oninput: function () { if (parseInt(amount.value, 10) > 0) { holder[key] = { last: parseInt(amount.value, 10) + unit.value }; ctx.changed({}); } },
        onchange: function () { ctx.scheduleRun(); } });
      var unit = h("select", { "data-path": path + ".unit", "aria-label": "Range unit",
        onchange: function () { holder[key] = { last: (parseInt(amount.value, 10) || 1) + unit.value }; ctx.changed({ run: true }); } },
        [["h", "hours"], ["d", "days"], ["w", "weeks"], ["m", "months"], ["q", "quarters"], ["y", "years"]].map(function (u) { return option(u[0], u[1], u[0] === match[2]); }));
      parts.push(amount, unit);
    } else if (mode === "between") {
      ["from", "to"].forEach(function (end) {
        var text = String(r[end] || "");
        var isDate = /^\d{4}-\d{2}-\d{2}$/.test(text);
        parts.push(h("input", { type: isDate || !text ? "date" : "text", value: text, "data-path": path + "." + end,
          "aria-label": end === "from" ? "From (inclusive)" : "To (exclusive)",
          oninput: function (e) { r[end] = e.target.value; ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }));
      });
    }
    return h("div", { class: "row" }, h("label", { class: "inline", text: allowEver ? "When" : "Range" }), parts);
  }

  function defaultBetween() {
    var now = ctx.catalog && ctx.catalog.project.now ? new Date(ctx.catalog.project.now + "Z") : new Date();
    var to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    var from = new Date(to.getTime() - 30 * 86400000);
    return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
  }


  root.segwiseUI = {
    ctx: ctx,
    register: register,
    analyses: analyses,
    analysisOf: analysisOf,
    analysisByKey: analysisByKey,
    h: h,
    option: option,
    labelFor: labelFor,
    b64url: b64url,
    unb64url: unb64url,
    clone: clone,
    formatValue: formatValue,
    properties: properties,
    listOf: listOf,
    noteGiven: noteGiven,
    given: given,
    emits: emits,
    setByHand: setByHand,
    unitNames: unitNames,
    editableEvent: editableEvent,
    cleanEvent: cleanEvent,
    cleanWhere: cleanWhere,
    cleanEventFilter: cleanEventFilter,
    cleanSegment: cleanSegment,
    havingEditor: havingEditor,
    cohortNames: cohortNames,
    categoryChoices: categoryChoices,
    topEvent: topEvent,
    eventSection: eventSection,
    eventPicker: eventPicker,
    propertySelect: propertySelect,
    filterList: filterList,
    rangeEditor: rangeEditor,
  };
})(window);
