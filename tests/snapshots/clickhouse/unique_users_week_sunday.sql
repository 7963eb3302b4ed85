SELECT
  'A' AS series,
  addDays(toDateTime(toMonday(addDays("e"."event_time", -6), 'UTC'), 'UTC'), 6) AS bucket,
  toInt64(COUNT(DISTINCT "e"."user_id")) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-05 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-26 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'login'
GROUP BY
  addDays(toDateTime(toMonday(addDays("e"."event_time", -6), 'UTC'), 'UTC'), 6)
