SELECT
  'A' AS series,
  "e"."bucket" AS bucket,
  "u0"."country" AS _g0,
  "u0"."account_type" AS _g1,
  CAST(COUNT("e"."user_id") AS BIGINT) AS value
FROM (
  SELECT DISTINCT
    DATE_TRUNC('MONTH', "e"."event_time") AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_time" < CAST('2025-02-01 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_name" = 'login'
) AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
WHERE
  "u0"."account_type" IN ('business', 'education')
GROUP BY
  "e"."bucket",
  "u0"."country",
  "u0"."account_type"
UNION ALL
SELECT
  'B' AS series,
  "e"."bucket" AS bucket,
  "u0"."country" AS _g0,
  "u0"."account_type" AS _g1,
  CAST(SUM("e"."events") AS BIGINT) AS value
FROM (
  SELECT
    DATE_TRUNC('MONTH', "e"."event_time") AS bucket,
    "e"."user_id" AS user_id,
    CAST(COUNT(*) AS BIGINT) AS events
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_time" < CAST('2025-02-01 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_name" = 'page_view'
  GROUP BY
    DATE_TRUNC('MONTH', "e"."event_time"),
    "e"."user_id"
) AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
GROUP BY
  "e"."bucket",
  "u0"."country",
  "u0"."account_type"
