SELECT
  'A' AS series,
  DATE_TRUNC(
    'HOUR',
    CAST("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS TIMESTAMP)
  ) AS bucket,
  "e"."platform" AS _g0,
  CAST(COUNT(*) AS BIGINT) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-14 23:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-15 23:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'page_view'
GROUP BY
  DATE_TRUNC(
    'HOUR',
    CAST("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS TIMESTAMP)
  ),
  "e"."platform"
