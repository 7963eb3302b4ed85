WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    DATEADD(DAY, 6, DATE_TRUNC('WEEK', DATEADD(DAY, -6, "e"."event_time"))) AS _b,
    MAX(
      CASE
        WHEN "e"."event_name" = 'login'
        AND "e"."event_time" < CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
        THEN 1
        ELSE 0
      END
    ) AS _s,
    1 AS _r
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-05 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
    )
    AND NOT "e"."user_id" IS NULL
  GROUP BY
    "e"."user_id",
    DATEADD(DAY, 6, DATE_TRUNC('WEEK', DATEADD(DAY, -6, "e"."event_time")))
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      CAST('2025-01-05 00:00:00.000000' AS TIMESTAMP) AS _lo
    UNION ALL
    SELECT
      1,
      CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      2,
      CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      3,
      CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
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
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(CASE WHEN r._k - c._c > 8 THEN 8 ELSE r._k - c._c END AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
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
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(0 AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rc AS c
GROUP BY
  c._c,
  c._g0
