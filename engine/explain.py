"""One :class:`Explanation` of a compiled query, built from its optimized plan: rendered as text
by ``segwise explain`` and as JSON by ``/api/explain`` (the same facts, one place)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cost import estimate_cost
from .dispatch import guard_limit
from .output import pretty_sql

if TYPE_CHECKING:
    from .compiled import CompiledQuery
    from .hooktypes import CostEstimate
    from .loaded import LoadedProject


@dataclass(frozen=True)
class Explanation:
    """What segwise will do for a query, and why."""

    project: LoadedProject
    compiled: CompiledQuery
    estimate: CostEstimate

    @classmethod
    def of(cls, project: LoadedProject, compiled: CompiledQuery) -> Explanation:
        return cls(project, compiled, estimate_cost(compiled, project.catalog()))

    @property
    def sql(self) -> str:
        return pretty_sql(self.compiled.expression, self.compiled.dialect)

    def to_text(self) -> list[str]:
        compiled, tf, query = self.compiled, self.compiled.timeframe, self.compiled.query
        lines = [
            f"warehouse   {self.project.warehouse} ({compiled.dialect})",
            f"range       [{tf.start.isoformat(sep=' ')}, {tf.end.isoformat(sep=' ')}) {tf.timezone}"
            f"  = UTC [{tf.start_utc.isoformat(sep=' ')}, {tf.end_utc.isoformat(sep=' ')})",
            f"grain       {tf.grain}, {len(tf.buckets)} bucket(s), weeks start {self.project.week_start}",
        ]
        if query.breakdown:
            limit = f", top {query.breakdown_limit} + Other" if query.breakdown_limit else ""
            lines.append(f"breakdown   {', '.join(query.breakdown)}{limit}")
        plan = compiled.plan
        assert plan is not None
        lines += ["", f"-- logical plan (rules applied: {', '.join(plan.rules) or 'none'})", *plan.describe()]
        if compiled.decisions:
            lines += ["", "-- planner decisions", *[f"planner     {d}" for d in compiled.decisions]]
        if plan.alternatives:
            lines += ["", f"-- alternatives considered (cost model: {plan.cost_source})"]
            for alt in plan.alternatives:
                mark = "chosen " if alt.chosen else "       "
                note = f"  [{alt.note}]" if alt.note else ""
                lines.append(
                    f"  {mark}{alt.name}: ~{alt.rows:,} rows, ~{_size(alt.bytes)}, ~{alt.seconds * 1000:.1f} ms{note}"
                )
        lines += ["", f"row guard   {guard_limit(compiled)[1]}"]
        estimate = self.estimate
        lines += ["", f"estimate    ~{estimate.rows:,} rows, ~{_size(estimate.bytes)} read ({estimate.source})"]
        for scan in estimate.scans:
            lines.append(
                f"  {scan.series:<6} {scan.table}: ~{scan.rows:,} of {scan.table_rows:,} rows; pruning: {scan.pruning}"
            )
        return [*lines, "", self.sql]

    def to_json(self) -> dict[str, Any]:
        compiled, tf, query = self.compiled, self.compiled.timeframe, self.compiled.query
        series = []
        for output in compiled.outputs:  # previous-period twins included
            spec = compiled.series_of(output)
            event = spec.event if isinstance(spec.event, str) else {"any_of": [m.event for m in spec.event.any_of]}
            series.append(
                {"label": output.label, "event": event, "measure": str(output.measure), "filters": len(spec.where)}
            )
        plan = compiled.plan
        return {
            "dialect": compiled.dialect,
            "timezone": tf.timezone,
            "week_start": self.project.week_start,
            "range": {
                "from": tf.start.isoformat(),
                "to": tf.end.isoformat(),
                "from_utc": tf.start_utc.isoformat(),
                "to_utc": tf.end_utc.isoformat(),
            },
            "time_grain": tf.grain,
            "buckets": len(tf.buckets),
            "series": series,
            "breakdown": list(query.breakdown),
            "breakdown_limit": query.breakdown_limit,
            "plan": plan.describe() if plan is not None else [],
            "plan_tree": plan.to_json() if plan is not None else None,
            "rules": list(plan.rules) if plan is not None else [],
            "decisions": list(compiled.decisions),
            "row_guard": {"limit_sent": guard_limit(compiled)[0], "why": guard_limit(compiled)[1]},
            "alternatives": [
                {
                    "name": a.name,
                    "rows": a.rows,
                    "bytes": a.bytes,
                    "seconds": a.seconds,
                    "chosen": a.chosen,
                    "note": a.note,
                }
                for a in (plan.alternatives if plan is not None else [])
            ],
            "estimate": {
                "rows": self.estimate.rows,
                "bytes": self.estimate.bytes,
                "source": self.estimate.source,
                "scans": [vars(s) for s in self.estimate.scans],
            },
            "sql": self.sql,
        }


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n:.0f} TB"
