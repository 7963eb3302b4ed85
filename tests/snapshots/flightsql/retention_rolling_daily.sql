WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    TIMESTAMP_TRUNC("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin', DAY) AS _b,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        AND "e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)
        THEN DATEDIFF("e"."event_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP), MICROSECOND)
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        THEN DATEDIFF("e"."event_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP), MICROSECOND)
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "e"."event_name" = 'login'
        THEN DATEDIFF("e"."event_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP), MICROSECOND)
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
    TIMESTAMP_TRUNC("e"."event_time" AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin', DAY),
    CAST((
      DATEDIFF("e"."event_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP), MICROSECOND)
    ) / 86400000000 AS BIGINT)
), rk AS (
  SELECT
    *
  FROM (VALUES
    (0, CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP)),
    (1, CAST('2025-01-11 00:00:00.000000' AS TIMESTAMP)),
    (2, CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP)),
    (3, CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP)),
    (4, CAST('2025-01-14 00:00:00.000000' AS TIMESTAMP)),
    (5, CAST('2025-01-15 00:00:00.000000' AS TIMESTAMP)),
    (6, CAST('2025-01-16 00:00:00.000000' AS TIMESTAMP)),
    (7, CAST('2025-01-17 00:00:00.000000' AS TIMESTAMP)),
    (8, CAST('2025-01-18 00:00:00.000000' AS TIMESTAMP)),
    (9, CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP)),
    (10, CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP)),
    (11, CAST('2025-01-21 00:00:00.000000' AS TIMESTAMP)),
    (12, CAST('2025-01-22 00:00:00.000000' AS TIMESTAMP)),
    (13, CAST('2025-01-23 00:00:00.000000' AS TIMESTAMP))) AS v(_k, _lo)
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
    CAST((
      r._r0 - c._t
    ) / 86400000000 AS BIGINT) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r0 >= c._t + 86400000000 AND r._r0 < c._t + 432000000000
  UNION
  SELECT
    c._u AS _u,
    c._c AS _c,
    CAST((
      r._r1 - c._t
    ) / 86400000000 AS BIGINT) AS _p
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
