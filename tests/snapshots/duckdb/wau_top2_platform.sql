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
), mraw0 AS (
  SELECT
    "e"."user_id" AS _u,
    "e"."platform" AS _g0,
    BIT_OR(
      CAST(1 AS UINT128) << CAST((
        CAST('2025-01-26' AS DATE) - CAST("e"."event_time" AS DATE)
      ) AS UINT128)
    ) AS _m
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2024-12-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
    )
    AND NOT "e"."user_id" IS NULL
  GROUP BY
    "e"."user_id",
    "e"."platform"
), m0 AS (
  SELECT
    mraw0._u AS _u,
    CASE WHEN _rank._rank <= 2 THEN mraw0._g0 ELSE 'Other' END AS _g0,
    BIT_OR(mraw0._m) AS _m
  FROM mraw0
  LEFT JOIN _rank
    ON COALESCE(mraw0._g0, '') = COALESCE(_rank._g0, '')
    AND (
      mraw0._g0 IS NULL
    ) = (
      _rank._g0 IS NULL
    )
  GROUP BY
    mraw0._u,
    CASE WHEN _rank._rank <= 2 THEN mraw0._g0 ELSE 'Other' END
), sm0 AS (
  SELECT
    m0._g0 AS _g0,
    m0._m | (
      m0._m >> CAST(1 AS UINT128)
    ) | (
      m0._m >> CAST(2 AS UINT128)
    ) | (
      m0._m >> CAST(3 AS UINT128)
    ) | (
      m0._m >> CAST(4 AS UINT128)
    ) | (
      m0._m >> CAST(5 AS UINT128)
    ) | (
      m0._m >> CAST(6 AS UINT128)
    ) AS _m
  FROM m0
), mb0 AS (
  SELECT
    sm0._g0 AS _g0,
    y._y AS _y,
    CAST((
      sm0._m >> CAST(y._y * 8 AS UINT128)
    ) & CAST(255 AS UINT128) AS INT) AS _v
  FROM sm0
  CROSS JOIN (
    SELECT
      *
    FROM (VALUES
      (0),
      (1),
      (2),
      (3),
      (4),
      (5),
      (6),
      (7),
      (8),
      (9),
      (10),
      (11),
      (12),
      (13),
      (14),
      (15)) AS v(_y)
  ) AS y
), mh0 AS (
  SELECT
    mb0._g0 AS _g0,
    mb0._y AS _y,
    mb0._v AS _v,
    COUNT(*) AS _n
  FROM mb0
  WHERE
    mb0._v <> 0
  GROUP BY
    mb0._g0,
    mb0._y,
    mb0._v
), md0 AS (
  SELECT
    mh0._g0 AS _g0,
    mh0._y * 8 + j._j AS _p,
    SUM(mh0._n) AS _n
  FROM mh0
  CROSS JOIN (
    SELECT
      *
    FROM (VALUES
      (0),
      (1),
      (2),
      (3),
      (4),
      (5),
      (6),
      (7)) AS v(_j)
  ) AS j
  WHERE
    (
      mh0._v >> j._j
    ) & 1 = 1
  GROUP BY
    mh0._g0,
    mh0._y * 8 + j._j
), spine0 AS (
  SELECT
    s._b AS _b,
    (
      CAST('2025-01-26' AS DATE) - CAST(s._hi AS DATE)
    ) AS _p
  FROM (
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
  ) AS s
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  md0._g0 AS _g0,
  CAST(md0._n AS BIGINT) AS value
FROM spine0
INNER JOIN md0
  ON md0._p = spine0._p
