WITH m1 AS (
  SELECT
    "u0"."license_type" AS _g0,
    BIT_OR(
      CAST(1 AS UINT128) << CAST((
        CAST('2025-01-26' AS DATE) - CAST("e"."event_time" AS DATE)
      ) AS UINT128)
    ) AS _m
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= CAST('2024-12-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'login'
    )
    AND NOT "u0"."account_id" IS NULL
  GROUP BY
    "u0"."account_id",
    "u0"."license_type"
), sm1 AS (
  SELECT
    m1._g0 AS _g0,
    m1._m | (
      m1._m >> CAST(1 AS UINT128)
    ) | (
      m1._m >> CAST(2 AS UINT128)
    ) | (
      m1._m >> CAST(3 AS UINT128)
    ) | (
      m1._m >> CAST(4 AS UINT128)
    ) | (
      m1._m >> CAST(5 AS UINT128)
    ) | (
      m1._m >> CAST(6 AS UINT128)
    ) AS _m
  FROM m1
), mb1 AS (
  SELECT
    sm1._g0 AS _g0,
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
    mh1._g0,
    mh1._y * 8 + j._j
), spine1 AS (
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
  "e"."bucket" AS bucket,
  "u0"."license_type" AS _g0,
  CAST(COUNT(DISTINCT "u0"."account_id") AS BIGINT) AS value
FROM (
  SELECT DISTINCT
    DATE_TRUNC('WEEK', "e"."event_time") AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
    AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
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
  CAST(md1._n AS BIGINT) AS value
FROM spine1
INNER JOIN md1
  ON md1._p = spine1._p
UNION ALL
SELECT
  'C' AS series,
  DATE_TRUNC('WEEK', "e"."event_time") AS bucket,
  "u0"."license_type" AS _g0,
  CAST(COUNT(DISTINCT "e"."url") AS BIGINT) AS value
FROM "events" AS "e"
LEFT JOIN "users" AS "u0"
  ON "u0"."user_id" = "e"."user_id"
WHERE
  "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_time" < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP)
  AND "e"."event_name" = 'page_view'
GROUP BY
  DATE_TRUNC('WEEK', "e"."event_time"),
  "u0"."license_type"
