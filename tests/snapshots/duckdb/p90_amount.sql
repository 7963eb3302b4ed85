SELECT
  'A' AS series,
  DATE_TRUNC('WEEK', "e"."event_time") AS bucket,
  CAST(QUANTILE_CONT(CAST("e"."amount" AS DOUBLE), 0.9
  ORDER BY
    CAST("e"."amount" AS DOUBLE)) AS DOUBLE) AS value
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
  CAST(QUANTILE_CONT(CAST("e"."amount" AS DOUBLE), 0.5
  ORDER BY
    CAST("e"."amount" AS DOUBLE)) AS DOUBLE) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'payment'
GROUP BY
  DATE_TRUNC('WEEK', "e"."event_time")
