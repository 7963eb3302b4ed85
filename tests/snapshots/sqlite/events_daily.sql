SELECT
  'A' AS series,
  DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day') AS bucket,
  CAST(COUNT(*) AS INTEGER) AS value
FROM "events" AS "e"
WHERE
  STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
  AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
  AND "e"."event_name" = 'page_view'
GROUP BY
  DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day')
