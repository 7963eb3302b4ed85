WITH ru AS (
  SELECT
    "u0"."account_id" AS _u,
    DATE_TRUNC('WEEK', "e"."event_time") AS _b,
    CASE
      WHEN "e"."event_name" = 'login'
      AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
      THEN "u0"."country"
    END AS _g0,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
        THEN "e"."event_time"
      END
    ) AS _t,
    MAX(CASE WHEN "e"."event_name" = 'login' THEN 1 ELSE 0 END) AS _r
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'login'
    )
    AND NOT "u0"."account_id" IS NULL
  GROUP BY
    "u0"."account_id",
    DATE_TRUNC('WEEK', "e"."event_time"),
    CASE
      WHEN "e"."event_name" = 'login'
      AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
      THEN "u0"."country"
    END
), rk AS (
  SELECT
    *
  FROM (VALUES
    (0, CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)),
    (1, CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP)),
    (2, CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)),
    (3, CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP))) AS v(_k, _lo)
), re AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._g0 AS _g0,
    ru._t AS _t,
    ROW_NUMBER() OVER (PARTITION BY ru._u, ru._b ORDER BY ru._t, ru._g0 COLLATE "C") AS _n
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
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(r._k - c._c AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
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
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(0 AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rc AS c
GROUP BY
  c._c,
  c._g0
