WITH ru AS (
  SELECT
    `e`.`user_id` AS _u,
    CAST(CAST(`e`.`event_time` AS DATE) AS TIMESTAMP_NTZ) AS _b,
    CASE
      WHEN `e`.`event_name` = 'page_view'
      AND `e`.`event_time` < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP_NTZ)
      THEN `e`.`url`
    END AS _g0,
    MIN(
      CASE
        WHEN `e`.`event_name` = 'page_view'
        AND `e`.`event_time` < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP_NTZ)
        THEN TIMESTAMPDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ), `e`.`event_time`)
      END
    ) AS _t,
    MIN(
      CASE
        WHEN `e`.`event_name` = 'page_view'
        THEN TIMESTAMPDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ), `e`.`event_time`)
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN `e`.`event_name` = 'page_view'
        THEN TIMESTAMPDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ), `e`.`event_time`)
      END
    ) AS _r1
  FROM `events` AS `e`
  WHERE
    (
      `e`.`event_time` >= CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP_NTZ)
      AND `e`.`event_time` < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP_NTZ)
      AND `e`.`event_name` = 'page_view'
    )
    AND NOT `e`.`user_id` IS NULL
  GROUP BY
    `e`.`user_id`,
    CAST(CAST(`e`.`event_time` AS DATE) AS TIMESTAMP_NTZ),
    CASE
      WHEN `e`.`event_name` = 'page_view'
      AND `e`.`event_time` < CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP_NTZ)
      THEN `e`.`url`
    END,
    (
      TIMESTAMPDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ), `e`.`event_time`)
    ) DIV 86400000000
), rk AS (
  SELECT
    *
  FROM VALUES
    (0, CAST('2025-01-10 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (1, CAST('2025-01-11 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (2, CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (3, CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (4, CAST('2025-01-14 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (5, CAST('2025-01-15 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (6, CAST('2025-01-16 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (7, CAST('2025-01-17 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (8, CAST('2025-01-18 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (9, CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (10, CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (11, CAST('2025-01-21 00:00:00.000000' AS TIMESTAMP_NTZ)),
    (12, CAST('2025-01-22 00:00:00.000000' AS TIMESTAMP_NTZ)) AS v(_k, _lo)
), re AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._g0 AS _g0,
    ru._t AS _t,
    ROW_NUMBER() OVER (PARTITION BY ru._u, ru._b ORDER BY ru._t NULLS LAST, ru._g0 NULLS LAST) AS _n
  FROM ru
  WHERE
    NOT ru._t IS NULL
), rc AS (
  SELECT
    re._u AS _u,
    rk._k AS _c,
    re._g0 AS _g0,
    re._t AS _t
  FROM re
  JOIN rk
    ON re._b = rk._lo
  WHERE
    re._n = 1
), rr AS (
  SELECT
    ru._u AS _u,
    ru._r0 AS _r0,
    ru._r1 AS _r1
  FROM ru
  WHERE
    NOT ru._r0 IS NULL
), rm AS (
  SELECT
    rr._u AS _u,
    MAX(rr._r1) AS _x
  FROM rr
  GROUP BY
    rr._u
), rp AS (
  SELECT
    c._u AS _u,
    c._c AS _c,
    c._g0 AS _g0,
    CASE
      WHEN (
        r._x - c._t
      ) DIV 86400000000 > 3
      THEN 3
      ELSE (
        r._x - c._t
      ) DIV 86400000000
    END AS _p
  FROM rc AS c
  JOIN rm AS r
    ON r._u = c._u
  WHERE
    r._x >= c._t + 86400000000
)
SELECT
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(c._p AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._g0,
  c._p
UNION ALL
SELECT
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(0 AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rc AS c
GROUP BY
  c._c,
  c._g0
