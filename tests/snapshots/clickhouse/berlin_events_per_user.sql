WITH d1 AS (
  SELECT DISTINCT
    "e"."user_id" AS _u,
    toStartOfDay(
      addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
      'UTC'
    ) AS _d
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-19 23:00:00.000000', 6, 'UTC')
      AND "e"."event_name" = 'page_view'
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
), f1 AS (
  SELECT
    d1._u AS _u,
    d1._d AS _d,
    CASE
      WHEN lag(d1._d) OVER (PARTITION BY d1._u ORDER BY d1._d) >= addDays(d1._d, -1)
      THEN 0
      ELSE 1
    END AS _new
  FROM d1
), k1 AS (
  SELECT
    f1._u AS _u,
    f1._d AS _d,
    SUM(f1._new) OVER (PARTITION BY f1._u ORDER BY f1._d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _island
  FROM f1
), r1 AS (
  SELECT
    MIN(k1._d) AS _lo,
    addDays(MAX(k1._d), 0) AS _hi
  FROM k1
  GROUP BY
    k1._u,
    k1._island
), spine1 AS (
  SELECT
    *
  FROM (
    SELECT
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _b,
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _lo,
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _hi
    UNION ALL
    SELECT
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
  ) AS v
)
SELECT
  'A' AS series,
  toStartOfDay(
    addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
    'UTC'
  ) AS bucket,
  CAST(COUNT(*) AS Nullable(Float64)) / nullIf(COUNT(DISTINCT "e"."user_id"), 0) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-19 23:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'feature_used'
GROUP BY
  toStartOfDay(
    addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
    'UTC'
  )
UNION ALL
SELECT
  'B' AS series,
  spine1._b AS bucket,
  toInt64(COUNT(*)) AS value
FROM spine1
CROSS JOIN r1
WHERE
  r1._lo <= spine1._hi AND r1._hi >= spine1._hi
GROUP BY
  spine1._b
