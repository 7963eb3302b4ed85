WITH s0 AS (
  SELECT
    "e"."user_id" AS _u,
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS _b,
    "e"."platform" AS _g0,
    NULL AS _v
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
), _rank AS (
  SELECT
    s0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY toInt64(COUNT(DISTINCT s0._u)) DESC, s0._g0) AS _rank
  FROM s0
  GROUP BY
    s0._g0
), d0 AS (
  SELECT DISTINCT
    "e"."user_id" AS _u,
    toStartOfDay("e"."event_time", 'UTC') AS _d,
    "e"."platform" AS _g0
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2024-12-31 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
), spine0 AS (
  SELECT
    *
  FROM (
    SELECT
      toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC') AS _b,
      toDateTime64('2025-01-06 00:00:00.000000', 6, 'UTC') AS _lo,
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC') AS _hi
    UNION ALL
    SELECT
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC'),
      toDateTime64('2025-01-26 00:00:00.000000', 6, 'UTC')
  ) AS v
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  CASE WHEN _rank._rank <= 2 THEN d0._g0 ELSE 'Other' END AS _g0,
  toInt64(COUNT(DISTINCT d0._u)) AS value
FROM spine0
CROSS JOIN d0
LEFT JOIN _rank
  ON d0._g0 IS NOT DISTINCT FROM _rank._g0
WHERE
  d0._d BETWEEN spine0._lo AND spine0._hi
GROUP BY
  spine0._b,
  CASE WHEN _rank._rank <= 2 THEN d0._g0 ELSE 'Other' END
SETTINGS join_use_nulls = 1
