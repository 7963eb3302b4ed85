WITH ru AS (
  SELECT
    x._u AS _u,
    x._b AS _b,
    x._g0 AS _g0,
    MIN(x._t) AS _t,
    1 AS _r
  FROM (
    SELECT
      "e"."user_id" AS _u,
      DATE_TRUNC('WEEK', "e"."event_time") AS _b,
      CASE WHEN "e"."event_name" = 'signup' THEN "e"."platform" END AS _g0,
      CASE WHEN "e"."event_name" = 'signup' THEN "e"."event_time" END AS _t
    FROM "events" AS "e"
    WHERE
      (
        "e"."event_time" < CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
        AND "e"."event_name" = 'signup'
      )
      AND NOT "e"."user_id" IS NULL
    UNION ALL
    SELECT
      "e"."user_id" AS _u,
      DATE_TRUNC('WEEK', "e"."event_time") AS _b,
      CASE WHEN "e"."event_name" = 'signup' THEN "e"."platform" END AS _g0,
      CASE WHEN "e"."event_name" = 'signup' THEN "e"."event_time" END AS _t
    FROM "events" AS "e"
    WHERE
      (
        "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
        AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
      )
      AND NOT "e"."user_id" IS NULL
  ) AS x
  GROUP BY
    x._u,
    x._b,
    x._g0
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP) AS _lo
    UNION ALL
    SELECT
      1,
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      2,
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      3,
      CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
  ) AS v
), re AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._g0 AS _g0,
    ru._t AS _t,
    ROW_NUMBER() OVER (PARTITION BY ru._u ORDER BY ru._t, ru._g0) AS _n
  FROM ru
  WHERE
    NOT ru._t IS NULL
), rf AS (
  SELECT
    re._u AS _u,
    re._t AS _m,
    re._b AS _cb,
    re._g0 AS _g0
  FROM re
  WHERE
    re._n = 1
    AND re._t >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
    AND re._t < CAST('2025-02-03 00:00:00.000000' AS TIMESTAMP)
), rw AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._r AS _r,
    rf._m AS _m,
    rf._cb AS _cb,
    rf._g0 AS _g0
  FROM ru
  JOIN rf
    ON rf._u = ru._u
)
SELECT
  CAST(c._k AS BIGINT) AS _c,
  rw._g0 AS _g0,
  "_lu0"."country" AS _g1,
  CAST(CASE WHEN rw._b = rw._cb THEN 0 ELSE COALESCE(p._k, 9) - c._k END AS BIGINT) AS _p,
  CAST(COUNT(DISTINCT rw._u) AS BIGINT) AS _n
FROM rw
JOIN rk AS c
  ON c._lo = rw._cb
LEFT JOIN rk AS p
  ON p._lo = rw._b
LEFT JOIN "users" AS "_lu0"
  ON "_lu0"."user_id" = rw._u
WHERE
  (
    rw._m >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
    AND rw._m < CAST('2025-02-03 00:00:00.000000' AS TIMESTAMP)
  )
  AND (
    rw._b = rw._cb
    OR (
      rw._r = 1 AND COALESCE(p._k, 9) - c._k >= 1 AND COALESCE(p._k, 9) - c._k <= 4
    )
  )
GROUP BY
  c._k,
  rw._g0,
  "_lu0"."country",
  CASE WHEN rw._b = rw._cb THEN 0 ELSE COALESCE(p._k, 9) - c._k END
