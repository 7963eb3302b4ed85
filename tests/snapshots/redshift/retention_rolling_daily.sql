WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'Europe/Berlin', "e"."event_time")) AS _b,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        AND CONVERT_TIMEZONE('UTC', 'Europe/Berlin', "e"."event_time") < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
        THEN DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP), "e"."event_time")
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        THEN DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP), "e"."event_time")
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "e"."event_name" = 'login'
        THEN DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP), "e"."event_time")
      END
    ) AS _r1
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-09 23:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-30 23:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" = 'login'
    )
    AND NOT "e"."user_id" IS NULL
  GROUP BY
    "e"."user_id",
    DATE_TRUNC('DAY', CONVERT_TIMEZONE('UTC', 'Europe/Berlin', "e"."event_time")),
    CAST(TRUNC(
      CAST((
        DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP), "e"."event_time")
      ) AS DOUBLE PRECISION) / 86400000000
    ) AS BIGINT)
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP) AS _lo
    UNION ALL
    SELECT
      1,
      CAST('2025-01-11 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      2,
      CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      3,
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      4,
      CAST('2025-01-14 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      5,
      CAST('2025-01-15 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      6,
      CAST('2025-01-16 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      7,
      CAST('2025-01-17 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      8,
      CAST('2025-01-18 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      9,
      CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      10,
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      11,
      CAST('2025-01-21 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      12,
      CAST('2025-01-22 00:00:00.000000' AS TIMESTAMP)
    UNION ALL
    SELECT
      13,
      CAST('2025-01-23 00:00:00.000000' AS TIMESTAMP)
  ) AS v
), rc AS (
  SELECT
    ru._u AS _u,
    rk._k AS _c,
    MIN(ru._t) AS _t
  FROM ru
  JOIN rk
    ON ru._b = rk._lo
  WHERE
    NOT ru._t IS NULL
  GROUP BY
    ru._u,
    rk._k
), rr AS (
  SELECT
    ru._u AS _u,
    ru._r0 AS _r0,
    ru._r1 AS _r1
  FROM ru
  WHERE
    NOT ru._r0 IS NULL
), rp AS (
  SELECT
    c._u AS _u,
    c._c AS _c,
    CAST(TRUNC(CAST((
      r._r0 - c._t
    ) AS DOUBLE PRECISION) / 86400000000) AS BIGINT) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r0 >= c._t + 86400000000 AND r._r0 < c._t + 432000000000
  UNION
  SELECT
    c._u AS _u,
    c._c AS _c,
    CAST(TRUNC(CAST((
      r._r1 - c._t
    ) AS DOUBLE PRECISION) / 86400000000) AS BIGINT) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r1 >= c._t + 86400000000 AND r._r1 < c._t + 432000000000
)
SELECT
  CAST(c._c AS BIGINT) AS _c,
  CAST(c._p AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._p
UNION ALL
SELECT
  CAST(c._c AS BIGINT) AS _c,
  CAST(0 AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rc AS c
GROUP BY
  c._c
