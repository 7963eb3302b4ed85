WITH s0 AS (
  SELECT
    `e`.`user_id` AS _u,
    CAST(TRUNC(CAST(`e`.`event_time` AS DATE), 'WEEK') AS TIMESTAMP_NTZ) AS _b,
    `u0`.`country` AS _g0,
    CAST(`e`.`revenue` AS DOUBLE) AS _v
  FROM `events` AS `e`
  LEFT JOIN `users` AS `u0`
    ON `u0`.`user_id` = `e`.`user_id`
  WHERE
    `e`.`event_time` >= CAST('2025-01-03 00:00:00.000000' AS TIMESTAMP_NTZ)
    AND `e`.`event_time` < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP_NTZ)
    AND `e`.`event_name` = 'purchase'
), p0 AS (
  SELECT
    s0._b AS _b,
    s0._g0 AS _g0,
    CAST(SUM(s0._v) AS DOUBLE) AS _p
  FROM s0
  GROUP BY
    s0._b,
    s0._g0
), _rank AS (
  SELECT
    p0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY CAST(SUM(p0._p) AS DOUBLE) DESC, p0._g0 NULLS LAST) AS _rank
  FROM p0
  GROUP BY
    p0._g0
)
SELECT
  'A' AS series,
  p0._b AS bucket,
  CASE WHEN _rank._rank <= 3 THEN p0._g0 ELSE 'Other' END AS _g0,
  CAST(SUM(p0._p) AS DOUBLE) AS value
FROM p0
LEFT JOIN _rank
  ON COALESCE(p0._g0, '') = COALESCE(_rank._g0, '')
  AND (
    p0._g0 IS NULL
  ) = (
    _rank._g0 IS NULL
  )
GROUP BY
  p0._b,
  CASE WHEN _rank._rank <= 3 THEN p0._g0 ELSE 'Other' END
