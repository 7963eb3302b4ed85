SELECT
  'A' AS series,
  toInt64(COUNT(DISTINCT "e"."user_id")) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'page_view'
  AND POSITION("e"."url", 'doc') > 0
UNION ALL
SELECT
  'B' AS series,
  toInt64(COUNT(DISTINCT "e"."user_id")) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'page_view'
  AND substringUTF8("e"."referrer", 1, 2) = 'gö'
UNION ALL
SELECT
  'C' AS series,
  CAST(AVG(CAST("e"."revenue" AS Nullable(Float64))) AS Nullable(Float64)) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'purchase'
UNION ALL
SELECT
  'D' AS series,
  CAST(MAX(CAST("e"."revenue" AS Nullable(Float64))) AS Nullable(Float64)) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'purchase'
