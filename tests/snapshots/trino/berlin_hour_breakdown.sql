SELECT
  'A' AS series,
  DATE_TRUNC(
    'HOUR',
    CAST(AT_TIMEZONE(WITH_TIMEZONE("e"."event_time", 'UTC'), 'Europe/Berlin') AS TIMESTAMP(6))
  ) AS bucket,
  "e"."platform" AS _g0,
  CAST(COUNT(*) AS BIGINT) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-14 23:00:00.000000' AS TIMESTAMP(6))
  AND "e"."event_time" < CAST('2025-01-15 23:00:00.000000' AS TIMESTAMP(6))
  AND "e"."event_name" = 'page_view'
GROUP BY
  DATE_TRUNC(
    'HOUR',
    CAST(AT_TIMEZONE(WITH_TIMEZONE("e"."event_time", 'UTC'), 'Europe/Berlin') AS TIMESTAMP(6))
  ),
  "e"."platform"
