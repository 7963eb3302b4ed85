WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day') AS _b,
    CASE
      WHEN "e"."event_name" = 'page_view'
      AND REPLACE("e"."event_time", 'T', ' ') < '2025-01-20 00:00:00'
      THEN "e"."url"
    END AS _g0,
    MIN(
      CASE
        WHEN "e"."event_name" = 'page_view'
        AND REPLACE("e"."event_time", 'T', ' ') < '2025-01-20 00:00:00'
        THEN (
          CAST(STRFTIME('%s', REPLACE("e"."event_time", 'T', ' ')) AS INTEGER) * 1000000 + CAST(SUBSTRING(STRFTIME('%f', REPLACE("e"."event_time", 'T', ' ')), 4) AS INTEGER) * 1000
        )
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "e"."event_name" = 'page_view'
        THEN (
          CAST(STRFTIME('%s', REPLACE("e"."event_time", 'T', ' ')) AS INTEGER) * 1000000 + CAST(SUBSTRING(STRFTIME('%f', REPLACE("e"."event_time", 'T', ' ')), 4) AS INTEGER) * 1000
        )
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "e"."event_name" = 'page_view'
        THEN (
          CAST(STRFTIME('%s', REPLACE("e"."event_time", 'T', ' ')) AS INTEGER) * 1000000 + CAST(SUBSTRING(STRFTIME('%f', REPLACE("e"."event_time", 'T', ' ')), 4) AS INTEGER) * 1000
        )
      END
    ) AS _r1
  FROM "events" AS "e"
  WHERE
    (
      STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-10 00:00:00'
      AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
      AND "e"."event_name" = 'page_view'
    )
    AND NOT "e"."user_id" IS NULL
  GROUP BY
    "e"."user_id",
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day'),
    CASE
      WHEN "e"."event_name" = 'page_view'
      AND REPLACE("e"."event_time", 'T', ' ') < '2025-01-20 00:00:00'
      THEN "e"."url"
    END,
    CAST(CAST((
      (
        CAST(STRFTIME('%s', REPLACE("e"."event_time", 'T', ' ')) AS INTEGER) * 1000000 + CAST(SUBSTRING(STRFTIME('%f', REPLACE("e"."event_time", 'T', ' ')), 4) AS INTEGER) * 1000
      )
    ) AS REAL) / 86400000000 AS INTEGER)
), rk AS (
  SELECT
    column1 AS _k,
    column2 AS _lo
  FROM (VALUES
    (0, '2025-01-10 00:00:00'),
    (1, '2025-01-11 00:00:00'),
    (2, '2025-01-12 00:00:00'),
    (3, '2025-01-13 00:00:00'),
    (4, '2025-01-14 00:00:00'),
    (5, '2025-01-15 00:00:00'),
    (6, '2025-01-16 00:00:00'),
    (7, '2025-01-17 00:00:00'),
    (8, '2025-01-18 00:00:00'),
    (9, '2025-01-19 00:00:00'),
    (10, '2025-01-20 00:00:00'),
    (11, '2025-01-21 00:00:00'),
    (12, '2025-01-22 00:00:00'))
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
      WHEN CAST(CAST((
        r._x - c._t
      ) AS REAL) / 86400000000 AS INTEGER) > 3
      THEN 3
      ELSE CAST(CAST((
        r._x - c._t
      ) AS REAL) / 86400000000 AS INTEGER)
    END AS _p
  FROM rc AS c
  JOIN rm AS r
    ON r._u = c._u
  WHERE
    r._x >= c._t + 86400000000
)
SELECT
  CAST(c._c AS INTEGER) AS _c,
  c._g0 AS _g0,
  CAST(c._p AS INTEGER) AS _p,
  CAST(COUNT(*) AS INTEGER) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._g0,
  c._p
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
