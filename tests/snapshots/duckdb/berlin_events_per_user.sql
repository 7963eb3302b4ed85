WITH m1 AS (
  SELECT
    BIT_OR(
      CAST(1 AS UINT128) << CAST((
        CAST('2025-01-19' AS DATE) - CAST(CAST("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS TIMESTAMP) AS DATE)
      ) AS UINT128)
    ) AS _m
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-09 23:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-19 23:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'page_view'
    )
    AND NOT "e"."user_id" IS NULL
  GROUP BY
    "e"."user_id"
), sm1 AS (
  SELECT
    m1._m AS _m
  FROM m1
), mb1 AS (
  SELECT
    y._y AS _y,
    CAST((
      sm1._m >> CAST(y._y * 8 AS UINT128)
    ) & CAST(255 AS UINT128) AS INT) AS _v
  FROM sm1
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
      mh1._v >> j._j
    ) & 1 = 1
  GROUP BY
    mh1._y * 8 + j._j
)
SELECT
  'A' AS series,
  CAST(CAST(CAST("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS TIMESTAMP) AS DATE) AS TIMESTAMP) AS bucket,
  CAST(COUNT(*) AS DOUBLE) / NULLIF(COUNT(DISTINCT "e"."user_id"), 0) AS value
FROM "events" AS "e"
WHERE
  "e"."event_time" >= CAST('2025-01-09 23:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-19 23:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'feature_used'
GROUP BY
  CAST(CAST(CAST("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS TIMESTAMP) AS DATE) AS TIMESTAMP)
UNION ALL
SELECT
  'B' AS series,
  CAST(CAST('2025-01-19' AS DATE) - CAST(md1._p AS INT) AS TIMESTAMP) AS bucket,
  CAST(md1._n AS BIGINT) AS value
FROM md1
WHERE
  md1._p <= 9
