WITH d1 AS (
  SELECT DISTINCT
    "u0"."account_id" AS _u,
    TIMESTAMP_TRUNC("e"."event_time", DAY) AS _d,
    "u0"."license_type" AS _g0
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= CAST('2024-12-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'login'
    )
    AND NOT "u0"."account_id" IS NULL
), iv1 AS (
  SELECT
    d1._g0 AS _g0,
    d1._d AS _s,
    LAG(d1._d) OVER (PARTITION BY d1._u, d1._g0 ORDER BY d1._d DESC) AS _nx
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
      WHEN iv1._nx > iv1._s AND iv1._nx < iv1._s + INTERVAL '7' DAY
      THEN iv1._nx
      ELSE iv1._s + INTERVAL '7' DAY
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
  FROM (VALUES
    (
      CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP)
    ),
    (
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP)
    ),
    (
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
    )) AS v(_b, _hi)
)
SELECT
  'A' AS series,
  "e"."bucket" AS bucket,
  "u0"."license_type" AS _g0,
  CAST(COUNT(DISTINCT "u0"."account_id") AS BIGINT) AS value
FROM (
  SELECT DISTINCT
    TIMESTAMP_TRUNC("e"."event_time", WEEK) AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
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
  CAST(SUM(dd1._c) AS BIGINT) AS value
FROM spine1
INNER JOIN dd1
  ON dd1._day <= spine1._hi
GROUP BY
  spine1._b,
  dd1._g0
HAVING
  SUM(dd1._c) > 0
UNION ALL
SELECT
  'C' AS series,
  TIMESTAMP_TRUNC("e"."event_time", WEEK) AS bucket,
  "u0"."license_type" AS _g0,
  CAST(COUNT(DISTINCT "e"."url") AS BIGINT) AS value
FROM "events" AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
WHERE
  "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'page_view'
GROUP BY
  TIMESTAMP_TRUNC("e"."event_time", WEEK),
  "u0"."license_type"
