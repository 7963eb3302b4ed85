SELECT
  'A' AS series,
  DATE_TRUNC('WEEK', "e"."event_time") AS bucket,
  CAST(PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    CAST("e"."amount" AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'payment'
GROUP BY
  DATE_TRUNC('WEEK', "e"."event_time")
UNION ALL
SELECT
  'B' AS series,
  DATE_TRUNC('WEEK', "e"."event_time") AS bucket,
  CAST(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    CAST("e"."amount" AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'payment'
GROUP BY
  DATE_TRUNC('WEEK', "e"."event_time")
