WITH ru AS (
  SELECT
    `e`.`user_id` AS _u,
    DATETIME_TRUNC(DATETIME(TIMESTAMP(`e`.`event_time`, 'UTC'), 'Europe/Berlin'), DAY) AS _b,
    MIN(
      CASE
        WHEN `e`.`event_name` = 'login'
        AND DATETIME(TIMESTAMP(`e`.`event_time`, 'UTC'), 'Europe/Berlin') < CAST('2025-01-20 00:00:00.000000' AS DATETIME)
        THEN DATE_DIFF(`e`.`event_time`, CAST('1970-01-01 00:00:00' AS DATETIME), MICROSECOND)
      END
    ) AS _t,
    MIN(
      CASE
        WHEN `e`.`event_name` = 'login'
        THEN DATE_DIFF(`e`.`event_time`, CAST('1970-01-01 00:00:00' AS DATETIME), MICROSECOND)
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN `e`.`event_name` = 'login'
        THEN DATE_DIFF(`e`.`event_time`, CAST('1970-01-01 00:00:00' AS DATETIME), MICROSECOND)
      END
    ) AS _r1
  FROM `events` AS `e`
  WHERE
    (
      `e`.`event_time` >= CAST('2025-01-09 23:00:00.000000' AS DATETIME)
      AND `e`.`event_time` < CAST('2025-01-30 23:00:00.000000' AS DATETIME)
      AND `e`.`event_name` = 'login'
    )
    AND NOT `e`.`user_id` IS NULL
  GROUP BY
    `e`.`user_id`,
    DATETIME_TRUNC(DATETIME(TIMESTAMP(`e`.`event_time`, 'UTC'), 'Europe/Berlin'), DAY),
    DIV(
      (
        DATE_DIFF(`e`.`event_time`, CAST('1970-01-01 00:00:00' AS DATETIME), MICROSECOND)
      ),
      86400000000
    )
), rk AS (
  SELECT
    *
  FROM UNNEST([
    STRUCT(0 AS _k, CAST('2025-01-10 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(1 AS _k, CAST('2025-01-11 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(2 AS _k, CAST('2025-01-12 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(3 AS _k, CAST('2025-01-13 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(4 AS _k, CAST('2025-01-14 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(5 AS _k, CAST('2025-01-15 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(6 AS _k, CAST('2025-01-16 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(7 AS _k, CAST('2025-01-17 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(8 AS _k, CAST('2025-01-18 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(9 AS _k, CAST('2025-01-19 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(10 AS _k, CAST('2025-01-20 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(11 AS _k, CAST('2025-01-21 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(12 AS _k, CAST('2025-01-22 00:00:00.000000' AS DATETIME) AS _lo),
    STRUCT(13 AS _k, CAST('2025-01-23 00:00:00.000000' AS DATETIME) AS _lo)
  ]) AS v
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
    DIV((
      r._r0 - c._t
    ), 86400000000) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r0 >= c._t + 86400000000 AND r._r0 < c._t + 432000000000
  UNION DISTINCT
  SELECT
    c._u AS _u,
    c._c AS _c,
    DIV((
      r._r1 - c._t
    ), 86400000000) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r1 >= c._t + 86400000000 AND r._r1 < c._t + 432000000000
)
SELECT
  CAST(c._c AS INT64) AS _c,
  CAST(c._p AS INT64) AS _p,
  CAST(COUNT(*) AS INT64) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._p
UNION ALL
SELECT
  CAST(c._c AS INT64) AS _c,
  CAST(0 AS INT64) AS _p,
  CAST(COUNT(*) AS INT64) AS _n
FROM rc AS c
GROUP BY
  c._c
