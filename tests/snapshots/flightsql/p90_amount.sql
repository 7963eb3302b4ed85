SELECT
  'A' AS series,
  TIMESTAMP_TRUNC("e"."event_time", WEEK) AS bucket,
  CAST(PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    CAST("e"."amount" AS DOUBLE) NULLS LAST) AS DOUBLE) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'payment'
GROUP BY
  TIMESTAMP_TRUNC("e"."event_time", WEEK)
UNION ALL
SELECT
  'B' AS series,
  TIMESTAMP_TRUNC("e"."event_time", WEEK) AS bucket,
  CAST(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    CAST("e"."amount" AS DOUBLE) NULLS LAST) AS DOUBLE) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'payment'
GROUP BY
  TIMESTAMP_TRUNC("e"."event_time", WEEK)
