WITH ru AS (
  SELECT
    "E"."USER_ID" AS _u,
    DATE_TRUNC('DAY', "E"."EVENT_TIME") AS _b,
    CASE
      WHEN "E"."EVENT_NAME" = 'page_view'
      AND "E"."EVENT_TIME" < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMPNTZ)
      THEN "E"."URL"
    END AS _g0,
    MIN(
      CASE
        WHEN "E"."EVENT_NAME" = 'page_view'
        AND "E"."EVENT_TIME" < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMPNTZ), "E"."EVENT_TIME")
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "E"."EVENT_NAME" = 'page_view'
        THEN DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMPNTZ), "E"."EVENT_TIME")
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "E"."EVENT_NAME" = 'page_view'
        THEN DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMPNTZ), "E"."EVENT_TIME")
      END
    ) AS _r1
  FROM "EVENTS" AS "E"
  WHERE
    (
      "E"."EVENT_TIME" >= CAST('2025-01-10 00:00:00.000000' AS TIMESTAMPNTZ)
      AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
      AND "E"."EVENT_NAME" = 'page_view'
    )
    AND NOT "E"."USER_ID" IS NULL
  GROUP BY
    "E"."USER_ID",
    DATE_TRUNC('DAY', "E"."EVENT_TIME"),
    CASE
      WHEN "E"."EVENT_NAME" = 'page_view'
      AND "E"."EVENT_TIME" < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMPNTZ)
      THEN "E"."URL"
    END,
    CAST(TRUNC(
      (
        DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMPNTZ), "E"."EVENT_TIME")
      ) / 86400000000
    ) AS BIGINT)
), rk AS (
  SELECT
    *
  FROM (VALUES
    (0, CAST('2025-01-10 00:00:00.000000' AS TIMESTAMPNTZ)),
    (1, CAST('2025-01-11 00:00:00.000000' AS TIMESTAMPNTZ)),
    (2, CAST('2025-01-12 00:00:00.000000' AS TIMESTAMPNTZ)),
    (3, CAST('2025-01-13 00:00:00.000000' AS TIMESTAMPNTZ)),
    (4, CAST('2025-01-14 00:00:00.000000' AS TIMESTAMPNTZ)),
    (5, CAST('2025-01-15 00:00:00.000000' AS TIMESTAMPNTZ)),
    (6, CAST('2025-01-16 00:00:00.000000' AS TIMESTAMPNTZ)),
    (7, CAST('2025-01-17 00:00:00.000000' AS TIMESTAMPNTZ)),
    (8, CAST('2025-01-18 00:00:00.000000' AS TIMESTAMPNTZ)),
    (9, CAST('2025-01-19 00:00:00.000000' AS TIMESTAMPNTZ)),
    (10, CAST('2025-01-20 00:00:00.000000' AS TIMESTAMPNTZ)),
    (11, CAST('2025-01-21 00:00:00.000000' AS TIMESTAMPNTZ)),
    (12, CAST('2025-01-22 00:00:00.000000' AS TIMESTAMPNTZ))) AS v(_k, _lo)
), re AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._g0 AS _g0,
    ru._t AS _t,
    ROW_NUMBER() OVER (PARTITION BY ru._u, ru._b ORDER BY ru._t, ru._g0) AS _n
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
      WHEN CAST(TRUNC((
        r._x - c._t
      ) / 86400000000) AS BIGINT) > 3
      THEN 3
      ELSE CAST(TRUNC((
        r._x - c._t
      ) / 86400000000) AS BIGINT)
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
