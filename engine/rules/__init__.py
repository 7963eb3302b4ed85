"""The planner's rewrite rules, one per module, applied in order by ``segwise.planner``.

Each module has ``apply(plan, context) -> plan``: it returns a rewritten copy (never changing the
plan it is given) and records its decisions (``plan.decisions``) and the alternatives it weighed
(``plan.alternatives``).
"""
