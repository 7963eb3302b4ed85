WITH ru AS (
  SELECT
    "u0"."account_id" AS _u,
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day', '-6 days', 'weekday 1') AS _b,
    CASE
      WHEN "e"."event_name" = 'login'
      AND REPLACE("e"."event_time", 'T', ' ') < '2025-01-27 00:00:00'
      THEN "u0"."country"
    END AS _g0,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        AND REPLACE("e"."event_time", 'T', ' ') < '2025-01-27 00:00:00'
        THEN REPLACE("e"."event_time", 'T', ' ')
      END
    ) AS _t,
    MAX(CASE WHEN "e"."event_name" = 'login' THEN 1 ELSE 0 END) AS _r
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-06 00:00:00'
      AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
      AND "e"."event_name" = 'login'
    )
    AND NOT "u0"."account_id" IS NULL
  GROUP BY
    "u0"."account_id",
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day', '-6 days', 'weekday 1'),
    CASE
      WHEN "e"."event_name" = 'login'
      AND REPLACE("e"."event_time", 'T', ' ') < '2025-01-27 00:00:00'
      THEN "u0"."country"
    END
), rk AS (
  SELECT
    column1 AS _k,
    column2 AS _lo
  FROM (VALUES
    (0, '2025-01-06 00:00:00'),
    (1, '2025-01-13 00:00:00'),
    (2, '2025-01-20 00:00:00'),
    (3, '2025-01-27 00:00:00'))
), re AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._g0 AS _g0,
    ru._t AS _t,
    ROW_NUMBER() OVER (PARTITION BY ru._u, ru._b ORDER BY ru._t NULLS LAST, ru._g0 NULLS LAST) AS _n
  FROM ru
  WHERE
    NOT ru._t IS NULL
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
  SELECT DISTINCT
    ru._u AS _u,
    COALESCE(rk._k, 7) AS _k
  FROM ru
  LEFT JOIN rk
    ON ru._b = rk._lo
  WHERE
    ru._r = 1
)
SELECT
  CAST(c._c AS INTEGER) AS _c,
  c._g0 AS _g0,
  CAST(r._k - c._c AS INTEGER) AS _p,
  CAST(COUNT(*) AS INTEGER) AS _n
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
  CAST(c._c AS INTEGER) AS _c,
  c._g0 AS _g0,
  CAST(0 AS INTEGER) AS _p,
  CAST(COUNT(*) AS INTEGER) AS _n
FROM rc AS c
GROUP BY
  c._c,
  c._g0
