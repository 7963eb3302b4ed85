"""The SQL ``benchmarks/funnels.py`` compares segwise with, on the planner benchmark's tables
(``events``: user_id, event_time, event_name, event_date; ``users``: user_id, country).

* ``hand_sql(..., form="asof")`` (DuckDB): the attempts follow each step by one ASOF join, and
  after every step the attempts that reached the same (unit, time) keep only the latest start
  (it reaches at least as far: the same steps from there on, a later window);
* ``hand_sql(..., form="range")`` (DuckDB and PostgreSQL; the issue's hand-written DuckDB form
  for step 3 on): each step one range join on the attempts still going with ``min()`` per
  attempt, then the same dedup; on PostgreSQL the events CTE is ``MATERIALIZED``;
* ``hand_sql(..., form="lists")`` (DuckDB; segwise's list form, written by hand): per user one
  ordered list per step event of (time, the running count of the next step's events), one join
  of the attempts to them, then every step a subscript (``lists[count + 1]``); an attempt whose
  next attempt starts strictly before its step 2 is dropped (total case only);
* ``hand_full_sql`` (DuckDB, the weekly case): the same result as segwise's — units and the
  average and median seconds per (entry week, country top 5 + Other, step) over each unit's best
  attempt — where the forms above count units only (a smaller question);
* ``peer_sql``: one LEFT JOIN per step over the raw events (Mitzu 0.6.11's shape).

Every form answers units reaching each step, total or per (entry week, country top 5 + Other):
a unit's best attempt reaches step k exactly when some attempt does, so they compare with
segwise's counts. Partition predicates on ``event_date`` prune as segwise's do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

START, END = datetime(2025, 6, 2), datetime(2025, 7, 2)


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def _events(steps: list[str], days: int, materialized: bool) -> str:
    names = ", ".join(f"'{n}'" for n in dict.fromkeys(steps))
    last = END + timedelta(days=days)
    mat = "MATERIALIZED " if materialized else ""
    return (
        f"e AS {mat}(SELECT user_id AS u, event_time AS t, event_name AS n FROM events "
        f"WHERE event_date >= DATE '{START:%Y-%m-%d}' AND event_date <= DATE '{last:%Y-%m-%d}' "
        f"AND event_time >= {_ts(START)} AND event_time < {_ts(last)} AND event_name IN ({names}) "
        "AND user_id IS NOT NULL)"
    )


def hand_sql(steps: list[str], days: int, form: str, weekly: bool = False, postgres: bool = False) -> str:
    """Units per step (``step, n``), or per entry week and country top 5 + Other
    (``step, wk, grp, n``)."""
    w = f"INTERVAL '{days} days'"
    wk = ", wk" if weekly else ""
    first = "date_trunc('week', t) AS wk, " if weekly else ""
    parts = [
        _events(steps, days, postgres),
        f"a1 AS (SELECT u, {first}t AS t1, t AS tk FROM e WHERE n = '{steps[0]}' AND t < {_ts(END)})",
    ]
    if form == "lists":
        parts[1:] = _lists(steps, days * 86_400_000_000, weekly)
    for k in range(2, len(steps) + 1):
        if form == "lists":
            break
        step = f"'{steps[k - 1]}'"
        parts.append(f"s{k} AS (SELECT u, t FROM e WHERE n = {step})")
        pk = ", p.wk" if weekly else ""
        if form == "asof":
            parts.append(
                f"a{k} AS (SELECT p.u{pk}, max(p.t1) AS t1, s.t AS tk FROM a{k - 1} AS p ASOF JOIN s{k} AS s "
                f"ON p.u = s.u AND s.t > p.tk WHERE s.t <= p.t1 + {w} GROUP BY p.u{pk}, s.t)"
            )
        else:
            parts.append(
                f"j{k} AS (SELECT p.u{pk}, p.t1, min(s.t) AS tk FROM a{k - 1} AS p JOIN s{k} AS s "
                f"ON s.u = p.u AND s.t > p.tk AND s.t <= p.t1 + {w} GROUP BY p.u{pk}, p.t1, p.tk)"
            )
            parts.append(f"a{k} AS (SELECT u{wk}, max(t1) AS t1, tk FROM j{k} GROUP BY u{wk}, tk)")
    n = len(steps)
    if not weekly:
        counts = " UNION ALL ".join(f"SELECT {k} AS step, count(DISTINCT u) AS n FROM a{k}" for k in range(1, n + 1))
        return f"WITH {', '.join(parts)} {counts} ORDER BY step"
    parts.append("uc AS (SELECT user_id AS u, country FROM users)")
    parts.append(
        "top AS (SELECT c.country FROM a1 JOIN uc AS c ON c.u = a1.u GROUP BY c.country "
        "ORDER BY count(DISTINCT a1.u) DESC, c.country ASC NULLS LAST LIMIT 5)"
    )
    group = "CASE WHEN c.country IN (SELECT country FROM top) THEN c.country ELSE 'Other' END"
    counts = " UNION ALL ".join(
        f"SELECT {k} AS step, a.wk, {group} AS grp, count(DISTINCT a.u) AS n FROM a{k} AS a "
        f"JOIN uc AS c ON c.u = a.u GROUP BY a.wk, {group}"
        for k in range(1, n + 1)
    )
    return f"WITH {', '.join(parts)} {counts}"


def _lists(steps: list[str], w: int, weekly: bool) -> list[str]:
    """The list form's CTEs after ``e`` (times in microseconds, ``w`` the window): ``w`` (the
    running count per step event), ``l`` (per user the ordered lists), ``a1`` (the attempts),
    ``c<k>`` (the chain) and ``a<k>`` (units at step k) as ``hand_sql``'s counts read them."""
    n = len(steps)
    names = list(dict.fromkeys(steps[1:] + ([] if weekly else [steps[0]])))
    d = {name: i for i, name in enumerate(names)}
    nexts: dict[int, list[int]] = {i: [] for i in range(len(names))}
    for k in range(3, n + 1):
        nexts[d[steps[k - 2]]].append(d[steps[k - 1]])
    counts = ", ".join(
        f"count(*) FILTER (WHERE n = '{name}') OVER (PARTITION BY u ORDER BY t) AS c{i}" for name, i in d.items()
    )
    lists = ", ".join(
        "list({'t': t" + "".join(f", 'c{j}': c{j}" for j in dict.fromkeys(nexts[i])) + f"}} ORDER BY t) "
        f"FILTER (WHERE n = '{name}') AS l{i}"
        for name, i in d.items()
    )
    wk = "date_trunc('week', ts) AS wk, " if weekly else ""
    first = d[steps[1]]
    parts = [
        f"w AS (SELECT u, t AS ts, epoch_us(t) AS t, n, {counts} FROM e)",
        f"l AS (SELECT u, {lists} FROM w GROUP BY u)",
        f"a1 AS (SELECT u, {wk}t AS t1, t AS tk, c{first} AS c, "
        f"{'NULL' if weekly else f'c{d[steps[0]]}'} AS c1 FROM w WHERE n = '{steps[0]}' AND ts < {_ts(END)})",
    ]
    nx = "NULL" if weekly else f"l.l{d[steps[0]]}[a1.c1 + 1].t"
    j2, t2 = "a1.c + 1", f"l.l{first}[a1.c + 1].t"
    ls = ", ".join(f"l.l{i}" for i in range(len(names)))
    pw = ", a1.wk" if weekly else ""
    within = f"{t2} <= a1.t1 + {w}"
    parts.append(
        f"c2 AS (SELECT a1.u{pw}, a1.t1, {ls}, CASE WHEN {within} THEN {j2} END AS j2 FROM a1 JOIN l ON l.u = a1.u "
        f"WHERE {nx} IS NULL OR {nx} >= epoch_us({_ts(END)}) OR {nx} >= CASE WHEN {within} THEN {t2} END)"
    )
    for k in range(3, n + 1):
        p, c = d[steps[k - 2]], d[steps[k - 1]]
        j = f"l{p}[j{k - 1}].c{c} + 1"
        parts.append(f"c{k} AS (SELECT *, CASE WHEN l{c}[{j}].t <= t1 + {w} THEN {j} END AS j{k} FROM c{k - 1})")
    wks = ", wk" if weekly else ""
    reached = ", ".join(f"j{k}" for k in range(2, n + 1))
    parts.append(f"cz AS MATERIALIZED (SELECT u{wks}, {reached} FROM c{n})")  # no lists; read once per step
    parts += [f"a{k} AS (SELECT u{wks} FROM cz WHERE j{k} IS NOT NULL)" for k in range(2, n + 1)]
    return parts


def peer_sql(steps: list[str], days: int) -> str:
    """One LEFT JOIN per step over raw events (Mitzu 0.6.11's shape): rows multiply per step."""
    w = f"INTERVAL '{days} days'"
    sql = (
        f"SELECT {', '.join(f'count(DISTINCT s{k}.user_id) AS c{k}' for k in range(1, len(steps) + 1))} "
        "FROM events AS s1"
    )
    for k in range(2, len(steps) + 1):
        sql += (
            f" LEFT JOIN events AS s{k} ON s{k}.user_id = s{k - 1}.user_id AND s{k}.event_name = '{steps[k - 1]}'"
            f" AND s{k}.event_time > s{k - 1}.event_time AND s{k}.event_time <= s1.event_time + {w}"
        )
    return sql + f" WHERE s1.event_name = '{steps[0]}' AND s1.event_time >= {_ts(START)} AND s1.event_time < {_ts(END)}"


def hand_full_sql(steps: list[str], days: int) -> str:
    """DuckDB, the weekly case's *same result* as segwise (not only units): per entry week,
    country (top 5 + Other) and step, the units, and the average and median seconds from the
    previous step over each unit's best attempt (furthest step, then the latest start). Every
    attempt follows its steps by ASOF joins, carrying its matched times; the best attempt by
    ``QUALIFY``; DuckDB's own ``median`` (continuous, as the contract's). Columns ``step, wk, grp,
    n, avg_s, median_s``."""
    w = f"INTERVAL '{days} days'"
    n = len(steps)
    parts = [
        _events(steps, days, False),
        f"a1 AS (SELECT u, date_trunc('week', t) AS wk, t AS t1 FROM e WHERE n = '{steps[0]}' AND t < {_ts(END)})",
    ]
    for k in range(2, n + 1):
        parts.append(f"s{k} AS (SELECT u, t FROM e WHERE n = '{steps[k - 1]}')")
        parts.append(
            f"a{k} AS (SELECT p.*, CASE WHEN s.t <= p.t1 + {w} THEN s.t END AS t{k} FROM a{k - 1} AS p "
            f"ASOF LEFT JOIN s{k} AS s ON p.u = s.u AND s.t > p.t{k - 1})"
        )
    reached = " + ".join(["1", *[f"(t{k} IS NOT NULL)::INT" for k in range(2, n + 1)]])
    seconds = " ".join(f"WHEN {k} THEN epoch(t{k}) - epoch(t{k - 1})" for k in range(2, n + 1))
    parts += [
        "uc AS (SELECT user_id AS u, country FROM users)",
        "top AS (SELECT c.country FROM a1 JOIN uc AS c ON c.u = a1.u GROUP BY c.country "
        "ORDER BY count(DISTINCT a1.u) DESC, c.country ASC NULLS LAST LIMIT 5)",
        f"b AS (SELECT a.*, CASE WHEN c.country IN (SELECT country FROM top) THEN c.country ELSE 'Other' END AS grp, "
        f"{reached} AS m FROM a{n} AS a JOIN uc AS c ON c.u = a.u "
        "QUALIFY row_number() OVER (PARTITION BY a.u, a.wk, grp ORDER BY m DESC, a.t1 DESC) = 1)",
        f"d AS (SELECT wk, grp, k AS step, CASE k {seconds} END AS sec FROM b, range(1, {n + 1}) AS r(k) WHERE k <= m)",
    ]
    return (
        f"WITH {', '.join(parts)} SELECT step, wk, grp, count(*) AS n, avg(sec) AS avg_s, median(sec) AS median_s "
        "FROM d GROUP BY step, wk, grp"
    )
