SELECT
  'A' AS series,
  toStartOfHour(
    addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
    'UTC'
  ) AS bucket,
  "e"."platform" AS _g0,
  toInt64(COUNT(*)) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-14 23:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-15 23:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'page_view'
GROUP BY
  toStartOfHour(
    addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
    'UTC'
  ),
  "e"."platform"
