SELECT
  'A' AS series,
  toStartOfDay("e"."event_time", 'UTC') AS bucket,
  toInt64(COUNT(*)) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'page_view'
GROUP BY
  toStartOfDay("e"."event_time", 'UTC')
