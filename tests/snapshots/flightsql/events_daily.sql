SELECT
  'A' AS series,
  TIMESTAMP_TRUNC("e"."event_time", DAY) AS bucket,
  CAST(COUNT(*) AS BIGINT) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'page_view'
GROUP BY
  TIMESTAMP_TRUNC("e"."event_time", DAY)
