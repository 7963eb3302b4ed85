/* segwise explorer: the funnel builder (`funnel: {steps, window, order, exclude, hold}`;
 * docs/queries.md "Funnels"): steps added, removed and moved (event, where, label), the window,
 * ordered / any order, exclusions between two steps (ordered only), held event properties. */
(function (UI) {
  "use strict";

  var h = UI.h, ctx = UI.ctx, option = UI.option;

  var WINDOW = "14d";  // the engine's default window: not written into the query unless given

  function step(event) { return { event: event || UI.topEvent(), where: [], label: "" }; }

  function cleanStep(s) {
    var c = UI.cleanEventFilter(s);
    if (s.label) c.label = s.label;
    return c;
  }

  function stepCard(f, s, i) {
    var path = "funnel.steps." + i;
    var n = f.steps.length;
    var move = function (by) { moveStep(f, i, by); ctx.changed({ render: true, run: true }); };
    return h("div", { class: "card funnel-step" },
      h("div", { class: "row" },
        h("span", { class: "badge", text: String(i + 1) }),
        h("input", { type: "text", value: s.label || "", placeholder: "label (default: the event)", class: "wide",
          "data-path": path + ".label", "aria-label": "Step " + (i + 1) + " label",
          oninput: function (e) { s.label = e.target.value; ctx.changed({}); }, onchange: function () { ctx.scheduleRun(); } }),
        h("button", { type: "button", text: "↑", disabled: i === 0 ? true : null, "data-path": path + ".up",
          "aria-label": "Move step " + (i + 1) + " up", onclick: function () { move(-1); } }),
        h("button", { type: "button", text: "↓", disabled: i === n - 1 ? true : null, "data-path": path + ".down",
          "aria-label": "Move step " + (i + 1) + " down", onclick: function () { move(1); } }),
        h("button", { type: "button", class: "remove", text: "×", disabled: n <= 2 ? true : null, "data-path": path + ".remove",
          "aria-label": "Remove step " + (i + 1), onclick: function () { removeStep(f, i); ctx.changed({ render: true, run: true }); } })),
      UI.eventPicker(s, "event", path + ".event", "Step " + (i + 1)),
      UI.filterList(s.where, path + ".where", "Step " + (i + 1)));
  }

  function stepName(f, k) {
    var s = f.steps[k - 1];
    return "step " + k + " (" + (s.label || (typeof s.event === "string" ? s.event : "combined event")) + ")";
  }

  function exclusionName(x, i) {
    return "Exclusion " + (i + 1) + (typeof x.event === "string" && x.event ? " (" + x.event + ")" : "");
  }

  /* Remove step i (0-based) and renumber the exclusions' steps: later steps move up by one; an
   * exclusion bounded by the removed step widens to its neighbour (after: the step before it,
   * before: the step that takes its place), stays between two different steps, and says so in
   * the builder's note (f._note, never written into the query). */
  function removeStep(f, i) {
    var gone = stepName(f, i + 1);
    f.steps.splice(i, 1);
    var n = f.steps.length, removed = i + 1, notes = [];
    f.exclude.forEach(function (x, j) {
      var after = x.after_step, before = x.before_step;
      var touched = after === removed || before === removed;
      after = after > removed ? after - 1 : after === removed ? Math.max(1, removed - 1) : after;
      before = before > removed ? before - 1 : Math.min(before, n);
      if (before <= after) before = Math.min(after + 1, n);
      if (before <= after) after = before - 1;
      x.after_step = after;
      x.before_step = before;
      if (touched) {
        notes.push(exclusionName(x, j) + " was bounded by " + gone + ", which was removed: it now counts after " +
          stepName(f, after) + " and before " + stepName(f, before) + ".");
      }
    });
    f._note = notes.join(" ");
  }

  /* Move step i (0-based) by one place (by: -1 up, +1 down): the exclusions keep their steps
   * (the two steps trade numbers). An exclusion between the two steps that traded places now has
   * them in the other order: it stays between the same two steps, and the note says so. */
  function moveStep(f, i, by) {
    var a = i + 1, b = i + 1 + by;
    f.steps.splice(i + by, 0, f.steps.splice(i, 1)[0]);
    var renumber = function (k) { return k === a ? b : k === b ? a : k; };
    var notes = [];
    f.exclude.forEach(function (x, j) {
      var after = renumber(x.after_step), before = renumber(x.before_step);
      if (after > before) {
        var t = after; after = before; before = t;
        notes.push(exclusionName(x, j) + ": its two steps changed order; it now counts after " + stepName(f, after) +
          " and before " + stepName(f, before) + ".");
      }
      x.after_step = after;
      x.before_step = before;
    });
    f._note = notes.join(" ");
  }

  function stepOptions(n, selected) {
    var list = [];
    for (var k = 1; k <= n; k++) list.push(option(String(k), "step " + k, k === selected));
    return list;
  }

  function exclusionCard(f, x, i) {
    var path = "funnel.exclude." + i;
    var n = f.steps.length;
    var pick = function (key, label) {
      var sel = h("select", { "data-path": path + "." + key, "aria-label": "Exclusion " + (i + 1) + " " + label,
        onchange: function () { x[key] = parseInt(sel.value, 10); ctx.changed({ run: true }); } },
        stepOptions(n, x[key]));
      return sel;
    };
    return h("div", { class: "card funnel-exclusion" },
      UI.eventPicker(x, "event", path + ".event", "Exclusion " + (i + 1), { caption: "Not" }),
      UI.filterList(x.where, path + ".where", "Exclusion " + (i + 1)),
      h("div", { class: "row" }, h("span", { class: "muted", text: "after" }), pick("after_step", "after step"),
        h("span", { class: "muted", text: "before" }), pick("before_step", "before step"),
        h("button", { type: "button", class: "remove", text: "×", "aria-label": "Remove exclusion " + (i + 1),
          onclick: function () { f.exclude.splice(i, 1); f._note = ""; ctx.changed({ render: true, run: true }); } })));
  }

  /* Time to convert: per (entry bucket, group) and step after the first that some unit reached, the
   * median and average seconds from the previous step (data-median / data-avg hold the numbers). */
  function timesReadout(rows) {
    var C = window.segwiseChart;
    var own = ["step", "step_label", "count", "conversion", "from_previous", "median_seconds", "avg_seconds"];
    var columns = C.groupColumns(rows, own);
    var several = rows.some(function (r) { return r.bucket !== rows[0].bucket; });
    var shown = rows.filter(function (r) { return r.step > 1 && r.count > 0 && r.median_seconds !== null; }).slice(0, 200);
    if (!shown.length) return null;
    var head = (several ? ["entry"] : []).concat(columns, ["step", "median", "average"]);
    return h("div", { id: "funnel-times", class: "readout" }, h("h3", { text: "Time to convert (from the previous step)" }),
      h("table", { class: "readout-table" },
        h("thead", {}, h("tr", {}, head.map(function (c) { return h("th", { scope: "col", text: c }); }))),
        h("tbody", {}, shown.map(function (r) {
          return h("tr", { "data-step": String(r.step), "data-bucket": r.bucket, "data-group": C.groupText(r, columns),
            "data-median": JSON.stringify(r.median_seconds), "data-avg": JSON.stringify(r.avg_seconds) },
            several ? h("td", { text: C.bucketLabel(r.bucket, false) }) : null,
            columns.map(function (c) { return h("td", { text: r[c] === null ? "∅" : String(r[c]) }); }),
            h("td", { text: r.step + ". " + r.step_label }),
            h("td", { class: "num median", text: C.durationText(r.median_seconds) }),
            h("td", { class: "num avg", text: C.durationText(r.avg_seconds) }));
        }))));
  }

  UI.register({
    key: "funnel",
    label: "Funnel",
    grains: ["total", "hour", "day", "week", "month"],
    defaultGrain: "total",
    ownGrain: true,
    controls: { breakdownLimit: true },
    breakdown: {},
    columns: ["step", "step_label", "count", "conversion", "from_previous", "median_seconds", "avg_seconds"],
    chart: "funnel",
    readout: timesReadout,
    start: function (event) {
      return { funnel: { steps: [step(event), step(event)], exclude: [], hold: [] } };  // window: the default
    },
    event: function (q) { return q.funnel.steps[0].event; },
    editable: function (q) {
      var f = q.funnel;
      UI.noteGiven(f, ["order", "window"]);  // kept even when the default (an example's, an old URL's)
      f.steps = (f.steps || []).map(function (s) {
        s = typeof s === "string" ? { event: s } : s;
        UI.editableEvent(s);
        s.label = s.label || "";
        return s;
      });
      f.exclude = (f.exclude || []).map(function (x) {
        UI.editableEvent(x);
        UI.noteGiven(x, ["after_step", "before_step"]);
        x.after_step = x.after_step || 1;
        x.before_step = x.before_step || f.steps.length;
        return x;
      });
      f.hold = UI.listOf(f.hold);
      f.window = f.window || WINDOW;
      f.order = f.order || "ordered";
    },
    clean: function (q, out) {
      var f = q.funnel;
      var c = { steps: f.steps.map(cleanStep) };
      if (UI.emits(f, "window", WINDOW)) c.window = f.window;
      if (UI.emits(f, "order", "ordered")) c.order = f.order;
      var n = f.steps.length;
      var exclude = f.order === "ordered" ? f.exclude.filter(function (x) { return x.event; }) : [];
      if (exclude.length) {
        c.exclude = exclude.map(function (x) {
          var e = UI.cleanEventFilter(x);
          if (UI.emits(x, "after_step", 1)) e.after_step = x.after_step;
          if (UI.emits(x, "before_step", n)) e.before_step = x.before_step;
          return e;
        });
      }
      var hold = f.hold.filter(function (p) { return p; });
      if (hold.length) c.hold = hold;
      out.funnel = c;
    },
    render: function (el, q) {
      var f = q.funnel;
      var match = /^(\d+)([hdw])$/.exec(f.window) || [null, WINDOW.slice(0, -1), WINDOW.slice(-1)];
      var amount = h("input", { type: "number", min: 1, value: match[1], class: "narrow", "data-path": "funnel.window.amount",
        "aria-label": "Window length",
        oninput: function () { if (parseInt(amount.value, 10) > 0) { UI.setByHand(f, "window", parseInt(amount.value, 10) + unit.value); ctx.changed({}); } },
        onchange: function () { ctx.scheduleRun(); } });
      var unit = h("select", { "data-path": "funnel.window.unit", "aria-label": "Window unit",
        onchange: function () { UI.setByHand(f, "window", (parseInt(amount.value, 10) || 1) + unit.value); ctx.changed({ run: true }); } },
        [["h", "hours"], ["d", "days"], ["w", "weeks"]].map(function (u) { return option(u[0], u[1], u[0] === match[2]); }));
      var order = h("select", { "data-path": "funnel.order", "aria-label": "Step order",
        onchange: function () { UI.setByHand(f, "order", order.value); ctx.changed({ render: true, run: true }); } },
        option("ordered", "in this order", f.order === "ordered"), option("any", "in any order", f.order === "any"));
      var holds = f.hold.map(function (p, i) {
        return h("div", { class: "row" },
          UI.propertySelect(p, "funnel.hold." + i, "Hold " + (i + 1), function (v) { f.hold[i] = v; ctx.changed({ render: true, run: true }); },
            { eventOnly: true }),
          h("button", { type: "button", class: "remove", text: "×", "aria-label": "Remove hold " + (i + 1),
            onclick: function () { f.hold.splice(i, 1); ctx.changed({ render: true, run: true }); } }));
      });
      el.appendChild(h("section", { "aria-labelledby": "funnel-heading" },
        h("h2", { id: "funnel-heading", text: "Funnel" }),
        h("p", { class: "muted note", text: "Units that do step 1 in the range, then each next step within the window." }),
        f.steps.map(function (s, i) { return stepCard(f, s, i); }),
        h("div", { class: "row" },
          h("button", { type: "button", class: "add", id: "add-step", "data-path": "funnel.add_step", text: "+ Step",
            disabled: f.steps.length >= 20 ? true : null,
            onclick: function () { f.steps.push(step(f.steps[f.steps.length - 1].event)); ctx.changed({ render: true, run: true }); } })),
        h("div", { class: "row" }, h("label", { class: "inline", text: "Window" }), amount, unit,
          h("label", { class: "inline", text: "Steps" }), order),
        f.order === "ordered" ? h("div", {}, h("h3", { text: "Exclusions" }),
          f._note ? h("p", { id: "funnel-note", class: "note", role: "status", text: f._note }) : null,
          f.exclude.map(function (x, i) { return exclusionCard(f, x, i); }),
          h("button", { type: "button", class: "add", id: "add-exclusion", "data-path": "funnel.add_exclusion", text: "+ Exclusion",
            onclick: function () {
              f.exclude.push({ event: "", where: [], after_step: 1, before_step: f.steps.length });
              f._note = "";
              ctx.changed({ render: true });
            } })) : null,
        h("div", {}, h("h3", { text: "Hold constant" }), holds,
          h("button", { type: "button", class: "add", id: "add-hold", "data-path": "funnel.add_hold", text: "+ Property",
            onclick: function () { f.hold.push(""); ctx.changed({ render: true }); } }))));
    },
  });
})(window.segwiseUI);
