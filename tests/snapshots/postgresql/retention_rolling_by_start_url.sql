WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    DATE_TRUNC('DAY', "e"."event_time") AS _b,
    CASE
      WHEN "e"."event_name" = 'page_view'
      AND "e"."event_time" < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
      THEN "e"."url"
    END AS _g0,
    MIN(
      CASE
        WHEN "e"."event_name" = 'page_view'
        AND "e"."event_time" < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
        THEN CAST(EXTRACT(epoch FROM CAST("e"."event_time" AS TIMESTAMP) - CAST(CAST('1970-01-01 00:00:00' AS TIMESTAMP) AS TIMESTAMP)) * 1000000 AS BIGINT)
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "e"."event_name" = 'page_view'
        THEN CAST(EXTRACT(epoch FROM CAST("e"."event_time" AS TIMESTAMP) - CAST(CAST('1970-01-01 00:00:00' AS TIMESTAMP) AS TIMESTAMP)) * 1000000 AS BIGINT)
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "e"."event_name" = 'page_view'
        THEN CAST(EXTRACT(epoch FROM CAST("e"."event_time" AS TIMESTAMP) - CAST(CAST('1970-01-01 00:00:00' AS TIMESTAMP) AS TIMESTAMP)) * 1000000 AS BIGINT)
      END
    ) AS _r1
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'page_view'
    )
    AND NOT "e"."user_id" IS NULL
  GROUP BY
    "e"."user_id",
    DATE_TRUNC('DAY', "e"."event_time"),
    CASE
      WHEN "e"."event_name" = 'page_view'
      AND "e"."event_time" < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
      THEN "e"."url"
    END,
    DIV(
      (
        CAST(EXTRACT(epoch FROM CAST("e"."event_time" AS TIMESTAMP) - CAST(CAST('1970-01-01 00:00:00' AS TIMESTAMP) AS TIMESTAMP)) * 1000000 AS BIGINT)
      ),
      86400000000
    )
), rk AS (
  SELECT
    *
  FROM (VALUES
    (0, CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP)),
    (1, CAST('2025-01-11 00:00:00.000000' AS TIMESTAMP)),
    (2, CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP)),
    (3, CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP)),
    (4, CAST('2025-01-14 00:00:00.000000' AS TIMESTAMP)),
    (5, CAST('2025-01-15 00:00:00.000000' AS TIMESTAMP)),
    (6, CAST('2025-01-16 00:00:00.000000' AS TIMESTAMP)),
    (7, CAST('2025-01-17 00:00:00.000000' AS TIMESTAMP)),
    (8, CAST('2025-01-18 00:00:00.000000' AS TIMESTAMP)),
    (9, CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP)),
    (10, CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)),
    (11, CAST('2025-01-21 00:00:00.000000' AS TIMESTAMP)),
    (12, CAST('2025-01-22 00:00:00.000000' AS TIMESTAMP))) AS v(_k, _lo)
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
    re._g0 AS _g0,
    re._t AS _t
  FROM re
  JOIN rk
    ON re._b = rk._lo
  WHERE
    re._n = 1
), rr AS (
  SELECT
    ru._u AS _u,
    ru._r0 AS _r0,
    ru._r1 AS _r1
  FROM ru
  WHERE
    NOT ru._r0 IS NULL
), rm AS (
  SELECT
    rr._u AS _u,
    MAX(rr._r1) AS _x
  FROM rr
  GROUP BY
    rr._u
), rp AS (
  SELECT
    c._u AS _u,
    c._c AS _c,
    c._g0 AS _g0,
    CASE
      WHEN DIV((
        r._x - c._t
      ), 86400000000) > 3
      THEN 3
      ELSE DIV((
        r._x - c._t
      ), 86400000000)
    END AS _p
  FROM rc AS c
  JOIN rm AS r
    ON r._u = c._u
  WHERE
    r._x >= c._t + 86400000000
)
SELECT
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(c._p AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._g0,
  c._p
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
