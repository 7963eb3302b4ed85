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
), draw0 AS (
  SELECT
    "e"."user_id" AS _u,
    toStartOfDay("e"."event_time", 'UTC') AS _d,
    "e"."platform" AS _g0
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2024-12-31 00:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-27 00:00:00.000000', 6, 'UTC')
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
  GROUP BY
    "e"."user_id",
    toStartOfDay("e"."event_time", 'UTC'),
    "e"."platform"
), d0 AS (
  SELECT
    draw0._u AS _u,
    draw0._d AS _d,
    CASE WHEN _rank._rank <= 2 THEN draw0._g0 ELSE 'Other' END AS _g0
  FROM draw0
  LEFT JOIN _rank
    ON COALESCE(draw0._g0, '') = COALESCE(_rank._g0, '')
    AND (
      draw0._g0 IS NULL
    ) = (
      _rank._g0 IS NULL
    )
  GROUP BY
    draw0._u,
    draw0._d,
    CASE WHEN _rank._rank <= 2 THEN draw0._g0 ELSE 'Other' END
), iv0 AS (
  SELECT
    d0._g0 AS _g0,
    d0._d AS _s,
    lag(d0._d) OVER (PARTITION BY d0._u, d0._g0 ORDER BY d0._d DESC) AS _nx
  FROM d0
), dl0 AS (
  SELECT
    iv0._g0 AS _g0,
    iv0._s AS _day,
    1 AS _c
  FROM iv0
  UNION ALL
  SELECT
    iv0._g0 AS _g0,
    CASE
      WHEN iv0._nx > iv0._s AND iv0._nx < addDays(iv0._s, 7)
      THEN iv0._nx
      ELSE addDays(iv0._s, 7)
    END AS _day,
    -1 AS _c
  FROM iv0
), dd0 AS (
  SELECT
    dl0._g0 AS _g0,
    dl0._day AS _day,
    SUM(dl0._c) AS _c
  FROM dl0
  GROUP BY
    dl0._g0,
    dl0._day
), spine0 AS (
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
  spine0._b AS bucket,
  dd0._g0 AS _g0,
  toInt64(SUM(dd0._c)) AS value
FROM spine0
CROSS JOIN dd0
WHERE
  dd0._day <= spine0._hi
GROUP BY
  spine0._b,
  dd0._g0
HAVING
  SUM(dd0._c) > 0
SETTINGS join_use_nulls = 1
