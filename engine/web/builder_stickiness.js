/* segwise explorer: the stickiness builder (`stickiness: {event, where}`, `cumulative`;
 * docs/queries.md "Stickiness"). */
(function (UI) {
  "use strict";

  var h = UI.h, ctx = UI.ctx;

  UI.register({
    key: "stickiness",
    label: "Stickiness",
    grains: ["week", "month", "quarter", "year", "total"],
    defaultGrain: "week",
    controls: {},
    breakdown: { userOnly: true },
    columns: ["days", "value"],
    chart: "stickiness",
    start: function (event) {
      return { stickiness: { event: event || UI.topEvent(), where: [] } };
    },
    event: function (q) { return q.stickiness.event; },
    editable: function (q) {
      UI.editableEvent(q.stickiness);
      UI.noteGiven(q, ["cumulative"]);
      q.cumulative = !!q.cumulative;
    },
    clean: function (q, out) {
      out.stickiness = UI.cleanEventFilter(q.stickiness);
      if (UI.emits(q, "cumulative", false)) out.cumulative = q.cumulative;
    },
    render: function (el, q) {
      var cumulative = h("label", { class: "inline check" },
        h("input", { type: "checkbox", id: "cumulative", "data-path": "cumulative", checked: q.cumulative,
          onchange: function (e) { q.cumulative = e.target.checked; ctx.changed({ run: true }); } }),
        " Cumulative (active on at least N days)");
      el.appendChild(UI.eventSection(q, "stickiness", "Stickiness",
        "Per bucket: how many users did the event on exactly N distinct days of it.",
        h("div", { class: "row" }, cumulative)));
    },
  });
})(window.segwiseUI);
