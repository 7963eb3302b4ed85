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
), mraw0 AS (
  SELECT
    "e"."user_id" AS _u,
    "e"."platform" AS _g0,
    groupBitOr(
      bitShiftLeft(
        CAST(1 AS UInt128),
        CAST((
          toDate('2025-01-26') - toDate("e"."event_time", 'UTC')
        ) AS UInt8)
      )
    ) AS _m
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
    "e"."platform"
), m0 AS (
  SELECT
    mraw0._u AS _u,
    CASE WHEN _rank._rank <= 2 THEN mraw0._g0 ELSE 'Other' END AS _g0,
    groupBitOr(mraw0._m) AS _m
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
    bitOr(
      bitOr(
        m0._m,
        bitOr(bitShiftRight(m0._m, CAST(1 AS UInt8)), bitShiftRight(m0._m, CAST(2 AS UInt8)))
      ),
      bitOr(
        bitOr(bitShiftRight(m0._m, CAST(3 AS UInt8)), bitShiftRight(m0._m, CAST(4 AS UInt8))),
        bitOr(bitShiftRight(m0._m, CAST(5 AS UInt8)), bitShiftRight(m0._m, CAST(6 AS UInt8)))
      )
    ) AS _m
  FROM m0
), mb0 AS (
  SELECT
    sm0._g0 AS _g0,
    y._y AS _y,
    CAST(bitAnd(bitShiftRight(sm0._m, CAST(y._y * 8 AS UInt8)), CAST(255 AS UInt128)) AS Nullable(Int32)) AS _v
  FROM sm0
  CROSS JOIN (
    SELECT
      *
    FROM (
      SELECT
        0 AS _y
      UNION ALL
      SELECT
        1
      UNION ALL
      SELECT
        2
      UNION ALL
      SELECT
        3
      UNION ALL
      SELECT
        4
      UNION ALL
      SELECT
        5
      UNION ALL
      SELECT
        6
      UNION ALL
      SELECT
        7
      UNION ALL
      SELECT
        8
      UNION ALL
      SELECT
        9
      UNION ALL
      SELECT
        10
      UNION ALL
      SELECT
        11
      UNION ALL
      SELECT
        12
      UNION ALL
      SELECT
        13
      UNION ALL
      SELECT
        14
      UNION ALL
      SELECT
        15
    ) AS v
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
    FROM (
      SELECT
        0 AS _j
      UNION ALL
      SELECT
        1
      UNION ALL
      SELECT
        2
      UNION ALL
      SELECT
        3
      UNION ALL
      SELECT
        4
      UNION ALL
      SELECT
        5
      UNION ALL
      SELECT
        6
      UNION ALL
      SELECT
        7
    ) AS v
  ) AS j
  WHERE
    bitAnd(bitShiftRight(mh0._v, j._j), 1) = 1
  GROUP BY
    mh0._g0,
    mh0._y * 8 + j._j
), spine0 AS (
  SELECT
    s._b AS _b,
    (
      toDate('2025-01-26') - toDate(s._hi, 'UTC')
    ) AS _p
  FROM (
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
  ) AS s
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  md0._g0 AS _g0,
  toInt64(md0._n) AS value
FROM spine0
INNER JOIN md0
  ON md0._p = spine0._p
SETTINGS join_use_nulls = 1
