WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    addDays(toDateTime(toMonday(addDays("e"."event_time", -6), 'UTC'), 'UTC'), 6) AS _b,
    MAX(
      CASE
        WHEN "e"."event_name" = 'login'
        AND "e"."event_time" < toDateTime64('2025-01-26 00:00:00.000000', 6, 'UTC')
        THEN 1
        ELSE 0
      END
    ) AS _s,
    1 AS _r
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2025-01-05 00:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
  GROUP BY
    "e"."user_id",
    addDays(toDateTime(toMonday(addDays("e"."event_time", -6), 'UTC'), 'UTC'), 6)
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      toDateTime64('2025-01-05 00:00:00.000000', 6, 'UTC') AS _lo
    UNION ALL
    SELECT
      1,
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      2,
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      3,
      toDateTime64('2025-01-26 00:00:00.000000', 6, 'UTC')
  ) AS v
), rc AS (
  SELECT
    ru._u AS _u,
    rk._k AS _c,
    "_lu0"."country" AS _g0
  FROM ru
  JOIN rk
    ON ru._b = rk._lo
  LEFT JOIN "users" AS "_lu0"
    ON "_lu0"."user_id" = ru._u
  WHERE
    ru._s = 1
), rr AS (
  SELECT
    ru._u AS _u,
    COALESCE(rk._k, 12) AS _k
  FROM ru
  LEFT JOIN rk
    ON ru._b = rk._lo
  WHERE
    ru._r = 1
), rm AS (
  SELECT
    rr._u AS _u,
    MAX(rr._k) AS _k
  FROM rr
  GROUP BY
    rr._u
)
SELECT
  toInt64(c._c) AS _c,
  c._g0 AS _g0,
  toInt64(CASE WHEN r._k - c._c > 8 THEN 8 ELSE r._k - c._c END) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rc AS c
JOIN rm AS r
  ON r._u = c._u
WHERE
  r._k > c._c
GROUP BY
  c._c,
  c._g0,
  CASE WHEN r._k - c._c > 8 THEN 8 ELSE r._k - c._c END
UNION ALL
SELECT
  toInt64(c._c) AS _c,
  c._g0 AS _g0,
  toInt64(0) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rc AS c
GROUP BY
  c._c,
  c._g0
SETTINGS join_use_nulls = 1
