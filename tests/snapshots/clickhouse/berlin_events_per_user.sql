WITH d1 AS (
  SELECT
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
  GROUP BY
    "e"."user_id",
    toStartOfDay(
      addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
      'UTC'
    )
), iv1 AS (
  SELECT
    d1._d AS _s,
    lag(d1._d) OVER (PARTITION BY d1._u ORDER BY d1._d DESC) AS _nx
  FROM d1
), dl1 AS (
  SELECT
    iv1._s AS _day,
    1 AS _c
  FROM iv1
  UNION ALL
  SELECT
    CASE
      WHEN iv1._nx > iv1._s AND iv1._nx < addDays(iv1._s, 1)
      THEN iv1._nx
      ELSE addDays(iv1._s, 1)
    END AS _day,
    -1 AS _c
  FROM iv1
), dd1 AS (
  SELECT
    dl1._day AS _day,
    SUM(dl1._c) AS _c
  FROM dl1
  GROUP BY
    dl1._day
), spine1 AS (
  SELECT
    *
  FROM (
    SELECT
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _b,
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _hi
    UNION ALL
    SELECT
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
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
  toInt64(SUM(dd1._c)) AS value
FROM spine1
CROSS JOIN dd1
WHERE
  dd1._day <= spine1._hi
GROUP BY
  spine1._b
HAVING
  SUM(dd1._c) > 0
