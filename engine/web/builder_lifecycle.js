/* segwise explorer: the lifecycle builder (`lifecycle: {event, where}`; docs/queries.md "Lifecycle"). */
(function (UI) {
  "use strict";

  UI.register({
    key: "lifecycle",
    label: "Lifecycle",
    grains: ["hour", "day", "week", "month"],
    defaultGrain: "week",
    controls: {},
    breakdown: { userOnly: true },
    columns: ["status", "value"],
    chart: "lifecycle",
    start: function (event) {
      return { lifecycle: { event: event || UI.topEvent(), where: [] } };
    },
    event: function (q) { return q.lifecycle.event; },
    editable: function (q) {
      UI.editableEvent(q.lifecycle);
    },
    clean: function (q, out) {
      out.lifecycle = UI.cleanEventFilter(q.lifecycle);
    },
    render: function (el, q) {
      el.appendChild(UI.eventSection(q, "lifecycle", "Lifecycle",
        "Per bucket: users new (first event ever), returning (also active the bucket before), " +
        "resurrecting (back after a pause) and dormant (active the bucket before, not in this one)."));
    },
  });
})(window.segwiseUI);
