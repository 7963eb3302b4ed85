WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    toStartOfDay("e"."event_time", 'UTC') AS _b,
    CASE
      WHEN "e"."event_name" = 'page_view'
      AND "e"."event_time" < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
      THEN "e"."url"
    END AS _g0,
    MIN(
      CASE
        WHEN "e"."event_name" = 'page_view'
        AND "e"."event_time" < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
        THEN toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "e"."event_name" = 'page_view'
        THEN toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "e"."event_name" = 'page_view'
        THEN toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
      END
    ) AS _r1
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
      AND "e"."event_name" = 'page_view'
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
  GROUP BY
    "e"."user_id",
    toStartOfDay("e"."event_time", 'UTC'),
    CASE
      WHEN "e"."event_name" = 'page_view'
      AND "e"."event_time" < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
      THEN "e"."url"
    END,
    CAST((
      toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
    ) / 86400000000 AS Nullable(Int64))
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _lo
    UNION ALL
    SELECT
      1,
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      2,
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      3,
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      4,
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      5,
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      6,
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      7,
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      8,
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      9,
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      10,
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      11,
      toDateTime64('2025-01-21 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      12,
      toDateTime64('2025-01-22 00:00:00.000000', 6, 'UTC')
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
    NOT (
      ru._r0 IS NULL
    )
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
      WHEN CAST((
        r._x - c._t
      ) / 86400000000 AS Nullable(Int64)) > 3
      THEN 3
      ELSE CAST((
        r._x - c._t
      ) / 86400000000 AS Nullable(Int64))
    END AS _p
  FROM rc AS c
  JOIN rm AS r
    ON r._u = c._u
  WHERE
    r._x >= c._t + 86400000000
)
SELECT
  toInt64(c._c) AS _c,
  c._g0 AS _g0,
  toInt64(c._p) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._g0,
  c._p
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
