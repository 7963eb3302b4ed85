WITH ru AS (
  SELECT
    "u0"."account_id" AS _u,
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS _b,
    CASE
      WHEN "e"."event_name" = 'login'
      AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
      THEN "u0"."country"
    END AS _g0,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
        THEN "e"."event_time"
      END
    ) AS _t,
    MAX(CASE WHEN "e"."event_name" = 'login' THEN 1 ELSE 0 END) AS _r
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
      AND "e"."event_name" = 'login'
    )
    AND NOT (
      "u0"."account_id" IS NULL
    )
  GROUP BY
    "u0"."account_id",
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC'),
    CASE
      WHEN "e"."event_name" = 'login'
      AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
      THEN "u0"."country"
    END
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC') AS _lo
    UNION ALL
    SELECT
      1,
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      2,
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      3,
      toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
  ) AS v
), re AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._g0 AS _g0,
    ru._t AS _t,
    ROW_NUMBER() OVER (PARTITION BY ru._u, ru._b ORDER BY ru._t, ru._g0) AS _n
  FROM ru
  WHERE
    NOT (
      ru._t IS NULL
    )
), rc AS (
  SELECT
    re._u AS _u,
    rk._k AS _c,
    re._g0 AS _g0
  FROM re
  JOIN rk
    ON re._b = rk._lo
  WHERE
    re._n = 1
), rr AS (
  SELECT
    ru._u AS _u,
    COALESCE(rk._k, 7) AS _k
  FROM ru
  LEFT JOIN rk
    ON ru._b = rk._lo
  WHERE
    ru._r = 1
  GROUP BY
    ru._u,
    COALESCE(rk._k, 7)
)
SELECT
  toInt64(c._c) AS _c,
  c._g0 AS _g0,
  toInt64(r._k - c._c) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rc AS c
JOIN rr AS r
  ON r._u = c._u
WHERE
  r._k > c._c AND r._k <= c._c + 3
GROUP BY
  c._c,
  c._g0,
  r._k - c._c
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
