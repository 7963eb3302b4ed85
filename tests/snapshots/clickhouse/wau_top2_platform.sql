WITH s0 AS (
  SELECT
    "e"."user_id" AS _u,
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS _b,
    "e"."platform" AS _g0,
    NULL AS _v
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
), _rank AS (
  SELECT
    s0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY toInt64(COUNT(DISTINCT s0._u)) DESC, s0._g0) AS _rank
  FROM s0
  GROUP BY
    s0._g0
), draw0 AS (
  SELECT DISTINCT
    "e"."user_id" AS _u,
    toStartOfDay("e"."event_time", 'UTC') AS _d,
    "e"."platform" AS _g0
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2024-12-31 00:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
), d0 AS (
  SELECT DISTINCT
    draw0._u AS _u,
    draw0._d AS _d,
    CASE WHEN _rank._rank <= 2 THEN draw0._g0 ELSE 'Other' END AS _g0
  FROM draw0
  LEFT JOIN _rank
    ON draw0._g0 IS NOT DISTINCT FROM _rank._g0
), f0 AS (
  SELECT
    d0._u AS _u,
    d0._g0 AS _g0,
    d0._d AS _d,
    CASE
      WHEN lag(d0._d) OVER (PARTITION BY d0._u, d0._g0 ORDER BY d0._d) >= addDays(d0._d, -7)
      THEN 0
      ELSE 1
    END AS _new
  FROM d0
), k0 AS (
  SELECT
    f0._u AS _u,
    f0._g0 AS _g0,
    f0._d AS _d,
    SUM(f0._new) OVER (
      PARTITION BY f0._u, f0._g0
      ORDER BY f0._d
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _island
  FROM f0
), r0 AS (
  SELECT
    k0._g0 AS _g0,
    MIN(k0._d) AS _lo,
    addDays(MAX(k0._d), 6) AS _hi
  FROM k0
  GROUP BY
    k0._u,
    k0._g0,
    k0._island
), spine0 AS (
  SELECT
    *
  FROM (
    SELECT
      toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC') AS _b,
      toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC') AS _lo,
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC') AS _hi
    UNION ALL
    SELECT
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-26 00:00:00.000000', 6, 'UTC')
  ) AS v
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  r0._g0 AS _g0,
  toInt64(COUNT(*)) AS value
FROM spine0
CROSS JOIN r0
WHERE
  r0._lo <= spine0._hi AND r0._hi >= spine0._hi
GROUP BY
  spine0._b,
  r0._g0
SETTINGS join_use_nulls = 1
