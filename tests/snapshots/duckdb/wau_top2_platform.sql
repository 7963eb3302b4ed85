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
    ROW_NUMBER() OVER (ORDER BY CAST(COUNT(DISTINCT s0._u) AS BIGINT) DESC, s0._g0) AS _rank
  FROM s0
  GROUP BY
    s0._g0
), draw0 AS (
  SELECT DISTINCT
    "e"."user_id" AS _u,
    CAST(CAST("e"."event_time" AS DATE) AS TIMESTAMP) AS _d,
    "e"."platform" AS _g0
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2024-12-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
    )
    AND NOT "e"."user_id" IS NULL
), d0 AS (
  SELECT DISTINCT
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
), iv0 AS (
  SELECT
    d0._g0 AS _g0,
    d0._d AS _s,
    LAG(d0._d) OVER (PARTITION BY d0._u, d0._g0 ORDER BY d0._d DESC) AS _nx
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
      WHEN iv0._nx > iv0._s AND iv0._nx < iv0._s + INTERVAL '7' DAY
      THEN iv0._nx
      ELSE iv0._s + INTERVAL '7' DAY
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
    g._b,
    CASE
      WHEN g._b + INTERVAL '7' DAY + INTERVAL '-1' DAY < CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
      THEN g._b + INTERVAL '7' DAY + INTERVAL '-1' DAY
      ELSE CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP)
    END AS _hi
  FROM GENERATE_SERIES(
    CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP),
    CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP),
    INTERVAL '7' DAY
  ) AS g(_b)
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  dd0._g0 AS _g0,
  CAST(SUM(dd0._c) AS BIGINT) AS value
FROM spine0
INNER JOIN dd0
  ON dd0._day <= spine0._hi
GROUP BY
  spine0._b,
  dd0._g0
HAVING
  SUM(dd0._c) > 0
