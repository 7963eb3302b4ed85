WITH d1 AS (
  SELECT DISTINCT
    "e"."user_id" AS _u,
    DATE_TRUNC('DAY', "e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin') AS _d
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-09 23:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-19 23:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'page_view'
    )
    AND NOT "e"."user_id" IS NULL
), iv1 AS (
  SELECT
    d1._d AS _s,
    LAG(d1._d) OVER (PARTITION BY d1._u ORDER BY d1._d DESC NULLS LAST) AS _nx
  FROM d1
), dl1 AS (
  SELECT
    iv1._s AS _day,
    1 AS _c
  FROM iv1
  UNION ALL
  SELECT
    CASE
      WHEN iv1._nx > iv1._s AND iv1._nx < iv1._s + INTERVAL '1 DAY'
      THEN iv1._nx
      ELSE iv1._s + INTERVAL '1 DAY'
    END AS _day,
    -1 AS _c
  FROM iv1
), dd1 AS (
  SELECT
    dl1._day AS _day,
    SUM(dl1._c) AS _c
  FROM dl1
  GROUP BY
    dl1._day
), spine1 AS (
  SELECT
    g._b,
    g._b AS _hi
  FROM GENERATE_SERIES(
    CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP),
    CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP),
    INTERVAL '1 DAY'
  ) AS g(_b)
)
SELECT
  'A' AS series,
  DATE_TRUNC('DAY', "e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin') AS bucket,
  CAST(COUNT(*) AS DOUBLE PRECISION) / NULLIF(COUNT(DISTINCT "e"."user_id"), 0) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-09 23:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-19 23:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'feature_used'
GROUP BY
  DATE_TRUNC('DAY', "e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin')
UNION ALL
SELECT
  'B' AS series,
  spine1._b AS bucket,
  CAST(SUM(dd1._c) AS BIGINT) AS value
FROM spine1
INNER JOIN dd1
  ON dd1._day <= spine1._hi
GROUP BY
  spine1._b
HAVING
  SUM(dd1._c) > 0
