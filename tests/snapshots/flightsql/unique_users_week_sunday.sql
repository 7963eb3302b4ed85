SELECT
  'A' AS series,
  TIMESTAMP_TRUNC("e"."event_time" + INTERVAL '-6' DAY, WEEK) + INTERVAL '6' DAY AS bucket,
  CAST(COUNT(DISTINCT "e"."user_id") AS BIGINT) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-05 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'login'
GROUP BY
  TIMESTAMP_TRUNC("e"."event_time" + INTERVAL '-6' DAY, WEEK) + INTERVAL '6' DAY
