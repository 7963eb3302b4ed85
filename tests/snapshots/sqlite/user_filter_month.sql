SELECT
  'A' AS series,
  "e"."bucket" AS bucket,
  "u0"."country" AS _g0,
  "u0"."account_type" AS _g1,
  CAST(COUNT("e"."user_id") AS INTEGER) AS value
FROM (
  SELECT DISTINCT
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of month') AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
    AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-02-01 00:00:00'
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
  CAST(SUM("e"."events") AS INTEGER) AS value
FROM (
  SELECT
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of month') AS bucket,
    "e"."user_id" AS user_id,
    CAST(COUNT(*) AS INTEGER) AS events
  FROM "events" AS "e"
  WHERE
    STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
    AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-02-01 00:00:00'
    AND "e"."event_name" = 'page_view'
  GROUP BY
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of month'),
    "e"."user_id"
) AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
GROUP BY
  "e"."bucket",
  "u0"."country",
  "u0"."account_type"
