WITH m1 AS (
  SELECT
    groupBitOr(
      bitShiftLeft(
        CAST(1 AS UInt128),
        CAST((
          toDate('2025-01-19') - toDate(
            addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
            'UTC'
          )
        ) AS UInt8)
      )
    ) AS _m
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-19 23:00:00.000000', 6, 'UTC')
      AND "e"."event_name" = 'page_view'
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
  GROUP BY
    "e"."user_id"
), sm1 AS (
  SELECT
    m1._m AS _m
  FROM m1
), mb1 AS (
  SELECT
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
    mb1._y AS _y,
    mb1._v AS _v,
    COUNT(*) AS _n
  FROM mb1
  WHERE
    mb1._v <> 0
  GROUP BY
    mb1._y,
    mb1._v
), md1 AS (
  SELECT
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
    mh1._y * 8 + j._j
)
SELECT
  'A' AS series,
  toStartOfDay(
    addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
    'UTC'
  ) AS bucket,
  CAST(COUNT(*) AS Nullable(Float64)) / nullIf(COUNT(DISTINCT "e"."user_id"), 0) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
  AND "e"."event_time" < toDateTime64('2025-01-19 23:00:00.000000', 6, 'UTC')
  AND "e"."event_name" = 'feature_used'
GROUP BY
  toStartOfDay(
    addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
    'UTC'
  )
UNION ALL
SELECT
  'B' AS series,
  toDateTime(subtractDays(toDate('2025-01-19'), md1._p), 'UTC') AS bucket,
  toInt64(md1._n) AS value
FROM md1
WHERE
  md1._p <= 9
