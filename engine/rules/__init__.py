"""The planner's rewrite rules, one per module, applied in order by ``segwise.planner``.

Each module has ``apply(plan, context) -> None``: it rewrites the logical plan in place and
records its decisions (``plan.decisions``) and the alternatives it weighed (``plan.alternatives``).
"""
