SELECT
  'A' AS series,
  toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS bucket,
  CAST(quantileExactInclusive(0.9)(CAST("e"."amount" AS Nullable(Float64))) AS Nullable(Float64)) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'payment'
GROUP BY
  toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC')
UNION ALL
SELECT
  'B' AS series,
  toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS bucket,
  CAST(quantileExactInclusive(0.5)(CAST("e"."amount" AS Nullable(Float64))) AS Nullable(Float64)) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'payment'
GROUP BY
  toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC')
