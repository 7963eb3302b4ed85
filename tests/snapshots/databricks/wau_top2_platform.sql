WITH s0 AS (
  SELECT
    `e`.`user_id` AS _u,
    CAST(TRUNC(CAST(`e`.`event_time` AS DATE), 'WEEK') AS TIMESTAMP_NTZ) AS _b,
    `e`.`platform` AS _g0,
    NULL AS _v
  FROM `events` AS `e`
  WHERE
    `e`.`event_time` >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP_NTZ)
    AND `e`.`event_time` < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP_NTZ)
), _rank AS (
  SELECT
    s0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY CAST(COUNT(DISTINCT s0._u) AS BIGINT) DESC, s0._g0 NULLS LAST) AS _rank
  FROM s0
  GROUP BY
    s0._g0
), draw0 AS (
  SELECT DISTINCT
    `e`.`user_id` AS _u,
    CAST(CAST(`e`.`event_time` AS DATE) AS TIMESTAMP_NTZ) AS _d,
    `e`.`platform` AS _g0
  FROM `events` AS `e`
  WHERE
    (
      `e`.`event_time` >= CAST('2024-12-31 00:00:00.000000' AS TIMESTAMP_NTZ)
      AND `e`.`event_time` < CAST('2025-01-27 00:00:00.000000' AS TIMESTAMP_NTZ)
    )
    AND NOT `e`.`user_id` IS NULL
), d0 AS (
  SELECT DISTINCT
    draw0._u AS _u,
    draw0._d AS _d,
    CASE WHEN _rank._rank <= 2 THEN draw0._g0 ELSE 'Other' END AS _g0
  FROM draw0
  LEFT JOIN _rank
    ON draw0._g0 IS NOT DISTINCT FROM _rank._g0
), f0 AS (
  SELECT
    d0._u AS _u,
    d0._g0 AS _g0,
    d0._d AS _d,
    CASE
      WHEN LAG(d0._d) OVER (PARTITION BY d0._u, d0._g0 ORDER BY d0._d NULLS LAST) >= TIMESTAMPADD(DAY, -7, d0._d)
      THEN 0
      ELSE 1
    END AS _new
  FROM d0
), k0 AS (
  SELECT
    f0._u AS _u,
    f0._g0 AS _g0,
    f0._d AS _d,
    SUM(f0._new) OVER (
      PARTITION BY f0._u, f0._g0
      ORDER BY f0._d NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _island
  FROM f0
), r0 AS (
  SELECT
    k0._g0 AS _g0,
    MIN(k0._d) AS _lo,
    TIMESTAMPADD(DAY, 6, MAX(k0._d)) AS _hi
  FROM k0
  GROUP BY
    k0._u,
    k0._g0,
    k0._island
), spine0 AS (
  SELECT
    *
  FROM VALUES
    (
      CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP_NTZ),
      CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP_NTZ),
      CAST('2025-01-12 00:00:00.000000' AS TIMESTAMP_NTZ)
    ),
    (
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP_NTZ),
      CAST('2025-01-13 00:00:00.000000' AS TIMESTAMP_NTZ),
      CAST('2025-01-19 00:00:00.000000' AS TIMESTAMP_NTZ)
    ),
    (
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP_NTZ),
      CAST('2025-01-20 00:00:00.000000' AS TIMESTAMP_NTZ),
      CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP_NTZ)
    ) AS v(_b, _lo, _hi)
)
SELECT
  'A' AS series,
  spine0._b AS bucket,
  r0._g0 AS _g0,
  CAST(COUNT(*) AS BIGINT) AS value
FROM spine0
INNER JOIN r0
  ON r0._lo <= spine0._hi AND r0._hi >= spine0._hi
GROUP BY
  spine0._b,
  r0._g0
