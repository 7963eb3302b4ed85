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
), _rank AS (
  SELECT
    s0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY CAST(SUM(s0._v) AS DOUBLE) DESC, s0._g0 NULLS LAST) AS _rank
  FROM s0
  GROUP BY
    s0._g0
)
SELECT
  'A' AS series,
  s0._b AS bucket,
  CASE WHEN _rank._rank <= 3 THEN s0._g0 ELSE 'Other' END AS _g0,
  CAST(SUM(s0._v) AS DOUBLE) AS value
FROM s0
LEFT JOIN _rank
  ON COALESCE(s0._g0, '') = COALESCE(_rank._g0, '')
  AND (
    s0._g0 IS NULL
  ) = (
    _rank._g0 IS NULL
  )
GROUP BY
  s0._b,
  CASE WHEN _rank._rank <= 3 THEN s0._g0 ELSE 'Other' END
