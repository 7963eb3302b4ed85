WITH m1 AS (
  SELECT
    "u0"."license_type" AS _g0,
    groupBitOr(
      bitShiftLeft(
        CAST(1 AS UInt128),
        CAST((
          toDate('2025-01-26') - toDate("e"."event_time", 'UTC')
        ) AS UInt8)
      )
    ) AS _m
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
    "u0"."license_type"
), sm1 AS (
  SELECT
    m1._g0 AS _g0,
    bitOr(
      bitOr(
        m1._m,
        bitOr(bitShiftRight(m1._m, CAST(1 AS UInt8)), bitShiftRight(m1._m, CAST(2 AS UInt8)))
      ),
      bitOr(
        bitOr(bitShiftRight(m1._m, CAST(3 AS UInt8)), bitShiftRight(m1._m, CAST(4 AS UInt8))),
        bitOr(bitShiftRight(m1._m, CAST(5 AS UInt8)), bitShiftRight(m1._m, CAST(6 AS UInt8)))
      )
    ) AS _m
  FROM m1
), mb1 AS (
  SELECT
    sm1._g0 AS _g0,
    y._y AS _y,
    CAST(bitAnd(bitShiftRight(sm1._m, CAST(y._y * 8 AS UInt8)), CAST(255 AS UInt128)) AS Nullable(Int32)) AS _v
  FROM sm1
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
), mh1 AS (
  SELECT
    mb1._g0 AS _g0,
    mb1._y AS _y,
    mb1._v AS _v,
    COUNT(*) AS _n
  FROM mb1
  WHERE
    mb1._v <> 0
  GROUP BY
    mb1._g0,
    mb1._y,
    mb1._v
), md1 AS (
  SELECT
    mh1._g0 AS _g0,
    mh1._y * 8 + j._j AS _p,
    SUM(mh1._n) AS _n
  FROM mh1
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
    bitAnd(bitShiftRight(mh1._v, j._j), 1) = 1
  GROUP BY
    mh1._g0,
    mh1._y * 8 + j._j
), spine1 AS (
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
  md1._g0 AS _g0,
  toInt64(md1._n) AS value
FROM spine1
INNER JOIN md1
  ON md1._p = spine1._p
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
