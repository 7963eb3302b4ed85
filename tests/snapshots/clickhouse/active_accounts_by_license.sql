WITH d1 AS (
  SELECT
    "u0"."account_id" AS _u,
    toStartOfDay("e"."event_time", 'UTC') AS _d,
    "u0"."license_type" AS _g0
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2024-12-31 00:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
      AND "e"."event_name" = 'login'
    )
    AND NOT (
      "u0"."account_id" IS NULL
    )
  GROUP BY
    "u0"."account_id",
    toStartOfDay("e"."event_time", 'UTC'),
    "u0"."license_type"
), iv1 AS (
  SELECT
    d1._g0 AS _g0,
    d1._d AS _s,
    lag(d1._d) OVER (PARTITION BY d1._u, d1._g0 ORDER BY d1._d DESC) AS _nx
  FROM d1
), dl1 AS (
  SELECT
    iv1._g0 AS _g0,
    iv1._s AS _day,
    1 AS _c
  FROM iv1
  UNION ALL
  SELECT
    iv1._g0 AS _g0,
    CASE
      WHEN iv1._nx > iv1._s AND iv1._nx < addDays(iv1._s, 7)
      THEN iv1._nx
      ELSE addDays(iv1._s, 7)
    END AS _day,
    -1 AS _c
  FROM iv1
), dd1 AS (
  SELECT
    dl1._g0 AS _g0,
    dl1._day AS _day,
    SUM(dl1._c) AS _c
  FROM dl1
  GROUP BY
    dl1._g0,
    dl1._day
), spine1 AS (
  SELECT
    *
  FROM (
    SELECT
      toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC') AS _b,
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC') AS _hi
    UNION ALL
    SELECT
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-26 00:00:00.000000', 6, 'UTC')
  ) AS v
)
SELECT
  'A' AS series,
  "e"."bucket" AS bucket,
  "u0"."license_type" AS _g0,
  toInt64(COUNT(DISTINCT "u0"."account_id")) AS value
FROM (
  SELECT
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
  GROUP BY
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC'),
    "e"."user_id"
) AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
GROUP BY
  "e"."bucket",
  "u0"."license_type"
UNION ALL
SELECT
  'B' AS series,
  spine1._b AS bucket,
  dd1._g0 AS _g0,
  toInt64(SUM(dd1._c)) AS value
FROM spine1
CROSS JOIN dd1
WHERE
  dd1._day <= spine1._hi
GROUP BY
  spine1._b,
  dd1._g0
HAVING
  SUM(dd1._c) > 0
UNION ALL
SELECT
  'C' AS series,
  toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS bucket,
  "u0"."license_type" AS _g0,
  toInt64(COUNT(DISTINCT "e"."url")) AS value
FROM "events" AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'page_view'
GROUP BY
  toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC'),
  "u0"."license_type"
SETTINGS join_use_nulls = 1
