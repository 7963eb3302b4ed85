WITH s0 AS (
  SELECT
    "e"."user_id" AS _u,
    DATE_TRUNC('WEEK', "e"."event_time") AS _b,
    "e"."platform" AS _g0,
    NULL AS _v
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
), _rank AS (
  SELECT
    s0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY CAST(COUNT(DISTINCT s0._u) AS BIGINT) DESC NULLS LAST, s0._g0) AS _rank
  FROM s0
  GROUP BY
    s0._g0
), d0 AS (
  SELECT DISTINCT
    "e"."user_id" AS _u,
    DATE_TRUNC('DAY', "e"."event_time") AS _d,
    "e"."platform" AS _g0
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= CAST('2024-12-31 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
), spine0 AS (
  SELECT
    *
  FROM (
    SELECT
      CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP) AS _b,
      CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP) AS _lo,
      CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP) AS _hi
    UNION ALL
    SELECT
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP),
      CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
  ) AS v
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  CASE WHEN _rank._rank <= 2 THEN d0._g0 ELSE 'Other' END AS _g0,
  CAST(COUNT(DISTINCT d0._u) AS BIGINT) AS value
FROM spine0
INNER JOIN d0
  ON d0._d BETWEEN spine0._lo AND spine0._hi
LEFT JOIN _rank
  ON (
    d0._g0 = _rank._g0 OR (
      d0._g0 IS NULL AND _rank._g0 IS NULL
    )
  )
GROUP BY
  spine0._b,
  CASE WHEN _rank._rank <= 2 THEN d0._g0 ELSE 'Other' END
