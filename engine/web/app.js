/* segwise explorer: every click builds the query; the query lives in the URL.
 *
 * State is the query object itself (the JSON form of a query file, docs/queries.md) plus the
 * chart type and SQL dialect. Every control writes into the state, the URL hash is
 * `#q=<base64url(JSON)>&chart=...&dialect=...`, and a run POSTs the query to api/query.
 * Controls carry `data-path` (e.g. `series.0.where.1.op`): focus survives re-rendering and tests
 * find controls by it.
 *
 * The analysis picker chooses a builder (builder_*.js, registered in ui.js); this file owns what
 * every analysis shares: the unit, date range, grain, breakdown, segment, running, the URL and the
 * results.
 */
(function () {
  "use strict";

  var UI = window.segwiseUI;
  var h = UI.h, option = UI.option, clone = UI.clone, listOf = UI.listOf, b64url = UI.b64url;

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

  // -- the query -------------------------------------------------------------------------------

  function analysis() { return UI.analysisOf(S.q); }

  function defaultQuery() {
    var q = UI.analysisByKey("series").start();
    q.date_range = { last: "30d" };
    q.time_grain = "day";
    return q;
  }

  /* The query without empty parts: what goes into the URL and to the API. */
  function clean(q) {
    var a = UI.analysisOf(q);
    var out = {};
    a.clean(q, out);
    out.date_range = q.date_range;
    out.time_grain = q.time_grain || a.defaultGrain;
    if (UI.emits(q, "unit", "user")) out.unit = q.unit;
    var breakdown = (q.breakdown || []).filter(function (b) { return b; });
    if (breakdown.length) out.breakdown = breakdown;
    if (a.controls.breakdownLimit && breakdown.length && q.breakdown_limit) out.breakdown_limit = q.breakdown_limit;
    var seg = UI.cleanSegment(q.segment);
    if (seg) out.segment = seg;
    if (a.controls.compare && q.compare) out.compare = "previous_period";
    return out;
  }

  /* Accept what a query file may hold (single condition, string breakdown, `formula`) for editing. */
  function editable(q) {
    q = clone(q || {});
    var a = UI.analysisOf(q);
    a.editable(q);
    UI.noteGiven(q, ["unit"]);
    q.unit = q.unit || "user";
    if (typeof q.breakdown === "string") q.breakdown = [q.breakdown];
    q.breakdown = q.breakdown || [];
    q.date_range = q.date_range || { last: "30d" };
    q.time_grain = q.time_grain || a.defaultGrain;  // the engine's default for the analysis
    q.segment = q.segment || {};
    ["did", "did_not"].forEach(function (k) {
      q.segment[k] = UI.editableEvent(q.segment[k] || { event: "" });
    });
    q.segment.user_where = listOf(q.segment.user_where);
    q.segment.cohort = listOf(q.segment.cohort);
    return q;
  }

  /* The picker chose another analysis: its own part anew; range, segment, unit and what fits of the
   * rest kept. The grain carries over when the new analysis offers it, unless either analysis'
   * grain means something of its own (ownGrain: a funnel's entry buckets, retention's cohorts). */
  function switchAnalysis(key) {
    var next = UI.analysisByKey(key);
    var prev = analysis();
    if (!next || next === prev) return;
    var old = S.q;
    var q = next.start(clone(prev.event(old) || ""));
    q.date_range = old.date_range;
    q.segment = old.segment;
    if (UI.emits(old, "unit", "user")) q.unit = old.unit;
    var carries = !prev.ownGrain && !next.ownGrain && next.grains.indexOf(old.time_grain) >= 0;
    q.time_grain = carries ? old.time_grain : next.defaultGrain;
    q.breakdown = old.breakdown.filter(function (b) { return !b || breakdownAllowed(next, b); });
    if (next.controls.breakdownLimit && old.breakdown_limit) q.breakdown_limit = old.breakdown_limit;
    S.q = editable(q);
    changed({ render: true, run: true });
  }

  function breakdownAllowed(a, name) {
    if (name === "segment") return true;
    if (UI.categoryChoices().some(function (x) { return x[0] === name; })) return true;
    if ((a.breakdown.extra || []).some(function (x) { return x[0] === name; })) return true;
    if (!a.breakdown.userOnly) return true;
    return UI.properties().some(function (p) { return p.name === name && p.source === "user"; });
  }

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
      try { S.q = editable(JSON.parse(UI.unb64url(params.q))); return true; } catch (e) {
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
    var a = analysis();
    $("analysis").value = a.key;
    var holder = $("analysis-sections");
    holder.textContent = "";
    a.render(holder, S.q);
    renderUnit();
    renderBreakdown(a);
    renderTime(a);
    renderSegment();
    $("chart-types").hidden = !a.controls.chartType;
    if (focused) {
      var el = document.querySelector('[data-path="' + focused + '"]');
      if (el) el.focus();
    }
  }

  /* The unit picker (`unit:`): users, or a unit the project declares (the catalog's `units`). */
  function renderUnit() {
    var names = UI.unitNames();
    var units = (S.catalog && S.catalog.units) || [];
    var select = $("unit");
    select.textContent = "";
    select.appendChild(option("user", "users", S.q.unit === "user"));
    units.forEach(function (u) { select.appendChild(option(u.name, u.name + " (" + u.property + ")", u.name === S.q.unit)); });
    if (S.q.unit !== "user" && names.indexOf(S.q.unit) < 0) select.appendChild(option(S.q.unit, S.q.unit + " (unknown)", true));
    $("unit-row").hidden = !names.length && S.q.unit === "user";
  }

  function renderBreakdown(a) {
    var holder = $("breakdown-list");
    holder.textContent = "";
    var extra = (a.breakdown.extra || []).concat(UI.categoryChoices());
    if (UI.cleanSegment(S.q.segment)) extra.push(["segment", "in / not in the segment"]);
    S.q.breakdown.forEach(function (b, i) {
      holder.appendChild(h("div", { class: "row" },
        UI.propertySelect(b, "breakdown." + i, "Breakdown " + (i + 1), function (v) { S.q.breakdown[i] = v; changed({ render: true, run: true }); },
          { extra: extra, userOnly: a.breakdown.userOnly }),
        h("button", { type: "button", class: "remove", "aria-label": "Remove breakdown " + (i + 1), text: "×",
          onclick: function () { S.q.breakdown.splice(i, 1); changed({ render: true, run: true }); } })));
    });
    $("add-breakdown").hidden = S.q.breakdown.length >= 5;
    $("breakdown-top").hidden = !a.controls.breakdownLimit;
    $("breakdown-limit").value = S.q.breakdown_limit || "";
  }

  function renderTime(a) {
    var holder = $("range");
    holder.textContent = "";
    holder.appendChild(UI.rangeEditor(S.q, "date_range", "date_range", false));
    var grain = $("time-grain");
    grain.textContent = "";
    a.grains.forEach(function (g) { grain.appendChild(option(g, g, g === S.q.time_grain)); });
    if (a.grains.indexOf(S.q.time_grain) < 0) grain.appendChild(option(S.q.time_grain, S.q.time_grain + " (not offered)", true));
    $("compare-label").hidden = !a.controls.compare;
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
        UI.eventPicker(part, "event", "segment." + k + ".event", "Users who " + (k === "did" ? "did" : "did not do"),
          { none: "—", caption: name }),
        part.event ? UI.filterList(part.where, "segment." + k + ".where", name) : null,
        part.event ? UI.rangeEditor(part, "date_range", "segment." + k + ".date_range", true) : null,
        part.event ? UI.havingEditor(part, "segment." + k + ".having", name) : null));
    });
    var names = UI.cohortNames();
    if (names.length || seg.cohort.length) {
      var pickers = seg.cohort.map(function (name, i) {
        var csel = h("select", { "data-path": "segment.cohort." + i, "aria-label": "Cohort " + (i + 1),
          onchange: function () { seg.cohort[i] = csel.value; changed({ render: true, run: true }); } },
          option("", "choose a cohort", !name),
          names.map(function (n) { return option(n, n, n === name); }),
          name && names.indexOf(name) < 0 ? option(name, name + " (unknown)", true) : null);
        return h("div", { class: "row" }, csel, h("button", { type: "button", class: "remove", text: "×",
          "aria-label": "Remove cohort " + (i + 1), onclick: function () { seg.cohort.splice(i, 1); changed({ render: true, run: true }); } }));
      });
      holder.appendChild(h("div", { class: "card segment-part" }, h("div", { class: "muted", text: "In the named cohorts" }), pickers,
        h("button", { type: "button", class: "add", id: "add-cohort", "data-path": "segment.add_cohort", text: "+ Cohort",
          onclick: function () { seg.cohort.push(""); changed({ render: true }); } })));
    }
    holder.appendChild(userWhereCard(seg.user_where));
  }

  /* The segment's user property filters (`user_where`) pick users: offered only when the query
   * counts users (the contract refuses them with another unit). Filters already there (an old
   * URL, a unit picked after them) stay shown, to remove, with a note saying why they are refused. */
  function userWhereCard(where) {
    var users = S.q.unit === "user";
    var note = users ? null : where.length
      ? h("p", { id: "user-where-note", class: "note error", role: "alert", text: "segment > user_where: user property filters " +
        "pick users, but the query counts " + S.q.unit + " units; remove them, or count users (a filter on the events themselves works too)." })
      : h("p", { id: "user-where-note", class: "note muted", text: "User property filters pick users: offered when counting users." });
    return h("div", { class: "card segment-part" }, h("div", { class: "muted", text: "User properties" }), note,
      users || where.length ? UI.filterList(where, "segment.user_where", "User property",
        { userOnly: true, addText: "+ User filter", noAdd: !users }) : null);
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
    var a = UI.analysisOf(query);
    var opt = segwiseChart.option(rows, { type: S.chart, kind: a.chart });
    var meta = opt.segwise;
    delete opt.segwise;
    if (!S.echart) {
      S.echart = echarts.init($("chart"), null, { renderer: "svg" });
      window.addEventListener("resize", function () { S.echart.resize(); });
    }
    S.echart.setOption(opt, true);
    var note = $("chart-note");
    note.hidden = !meta.note;
    note.textContent = meta.note || "";
    drawTable(rows, a.columns, a.lead || "bucket");
    var readout = $("readout");
    readout.textContent = "";
    var extra = a.readout ? a.readout(rows) : null;
    if (extra) readout.appendChild(extra);
    window.segwise = { chart: S.echart, rows: rows, query: query, meta: meta };
  }

  /* The rows as they are: bucket (or the analysis' lead column), breakdown columns, then the
   * analysis' own columns. Numbers carry their exact value in data-value (JSON), the bucket its ISO text. */
  function drawTable(rows, own, lead) {
    var table = $("table");
    table.textContent = "";
    var columns = [lead].concat(segwiseChart.groupColumns(rows, [lead].concat(own)), own);
    var withTime = rows.some(function (r) { return r[lead] !== null && String(r[lead]).slice(11, 16) !== "00:00"; });
    var shown = rows.slice(0, 5000);
    table.appendChild(h("thead", {}, h("tr", {}, columns.map(function (c) { return h("th", { scope: "col", text: c }); }))));
    var body = h("tbody", {});
    shown.forEach(function (r) {
      body.appendChild(h("tr", {}, columns.map(function (c) {
        var v = r[c];
        if (c === lead && v !== null) return h("td", { "data-value": v, text: segwiseChart.bucketLabel(v, withTime) });
        if (own.indexOf(c) >= 0 && (typeof v === "number" || v === null)) {
          return h("td", { class: "num", "data-value": JSON.stringify(v), text: UI.formatValue(v) });
        }
        return h("td", { text: v === null || v === undefined ? "∅" : String(v) });
      })));
    });
    table.appendChild(body);
    $("row-count").textContent = "(" + rows.length.toLocaleString("en-US") + " rows" + (rows.length > shown.length ? ", first " + shown.length + " shown" : "") + ")";
  }

  // -- wiring ------------------------------------------------------------------------------------

  function wire() {
    UI.ctx.changed = changed;
    UI.ctx.scheduleRun = scheduleRun;
    var picker = $("analysis");
    UI.analyses.forEach(function (a) { picker.appendChild(option(a.key, a.label)); });
    picker.addEventListener("change", function (e) { switchAnalysis(e.target.value); });
    $("builder").addEventListener("submit", function (e) { e.preventDefault(); run(); });
    $("builder").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.isComposing && e.target.tagName !== "BUTTON" && e.target.tagName !== "TEXTAREA") {
        e.preventDefault();
        run();
      }
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && S.running) { e.preventDefault(); cancel(); } });
    $("cancel").addEventListener("click", cancel);
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
    $("unit").addEventListener("change", function (e) {
      UI.setByHand(S.q, "unit", e.target.value);  // users: no longer written
      changed({ render: true, run: true });  // the segment's user filters depend on the unit
    });
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
        UI.ctx.catalog = res.data;
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
