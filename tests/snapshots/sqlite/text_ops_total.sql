SELECT
  'A' AS series,
  CAST(COUNT(DISTINCT "e"."user_id") AS INTEGER) AS value
FROM "events" AS "e"
WHERE
  STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
  AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
  AND "e"."event_name" = 'page_view'
  AND INSTR("e"."url", 'doc') > 0
UNION ALL
SELECT
  'B' AS series,
  CAST(COUNT(DISTINCT "e"."user_id") AS INTEGER) AS value
FROM "events" AS "e"
WHERE
  STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
  AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
  AND "e"."event_name" = 'page_view'
  AND SUBSTRING("e"."referrer", 1, 2) = 'gö'
UNION ALL
SELECT
  'C' AS series,
  CAST(AVG(CAST("e"."revenue" AS REAL)) AS REAL) AS value
FROM "events" AS "e"
WHERE
  STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
  AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
  AND "e"."event_name" = 'purchase'
UNION ALL
SELECT
  'D' AS series,
  CAST(MAX(CAST("e"."revenue" AS REAL)) AS REAL) AS value
FROM "events" AS "e"
WHERE
  STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
  AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
  AND "e"."event_name" = 'purchase'
