SELECT
  'A' AS series,
  CAST(COUNT(DISTINCT "e"."user_id") AS BIGINT) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'page_view'
  AND STR_POSITION("e"."url", 'doc') > 0
UNION ALL
SELECT
  'B' AS series,
  CAST(COUNT(DISTINCT "e"."user_id") AS BIGINT) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'page_view'
  AND SUBSTRING("e"."referrer", 1, 2) = 'gö'
UNION ALL
SELECT
  'C' AS series,
  CAST(AVG(CAST("e"."revenue" AS DOUBLE)) AS DOUBLE) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'purchase'
UNION ALL
SELECT
  'D' AS series,
  CAST(MAX(CAST("e"."revenue" AS DOUBLE)) AS DOUBLE) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'purchase'
