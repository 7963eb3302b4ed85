SELECT
  'A' AS series,
  "e"."bucket" AS bucket,
  "u0"."country" AS _g0,
  "u0"."account_type" AS _g1,
  toInt64(COUNT("e"."user_id")) AS value
FROM (
  SELECT
    toDateTime(toStartOfMonth("e"."event_time", 'UTC'), 'UTC') AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-02-01 00:00:00.000000', 6, 'UTC')
    AND "e"."event_name" = 'login'
  GROUP BY
    toDateTime(toStartOfMonth("e"."event_time", 'UTC'), 'UTC'),
    "e"."user_id"
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
  toInt64(SUM("e"."events")) AS value
FROM (
  SELECT
    toDateTime(toStartOfMonth("e"."event_time", 'UTC'), 'UTC') AS bucket,
    "e"."user_id" AS user_id,
    toInt64(COUNT(*)) AS events
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-02-01 00:00:00.000000', 6, 'UTC')
    AND "e"."event_name" = 'page_view'
  GROUP BY
    toDateTime(toStartOfMonth("e"."event_time", 'UTC'), 'UTC'),
    "e"."user_id"
) AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
GROUP BY
  "e"."bucket",
  "u0"."country",
  "u0"."account_type"
SETTINGS join_use_nulls = 1
