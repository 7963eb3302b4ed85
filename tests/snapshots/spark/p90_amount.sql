SELECT
  'A' AS series,
  CAST(TRUNC(CAST(`e`.`event_time` AS DATE), 'WEEK') AS TIMESTAMP_NTZ) AS bucket,
  CAST(PERCENTILE(CAST(`e`.`amount` AS DOUBLE), 0.9) AS DOUBLE) AS value
FROM `events` AS `e`
WHERE
  `e`.`event_time` >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_time` < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_name` = 'payment'
GROUP BY
  CAST(TRUNC(CAST(`e`.`event_time` AS DATE), 'WEEK') AS TIMESTAMP_NTZ)
UNION ALL
SELECT
  'B' AS series,
  CAST(TRUNC(CAST(`e`.`event_time` AS DATE), 'WEEK') AS TIMESTAMP_NTZ) AS bucket,
  CAST(PERCENTILE(CAST(`e`.`amount` AS DOUBLE), 0.5) AS DOUBLE) AS value
FROM `events` AS `e`
WHERE
  `e`.`event_time` >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_time` < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_name` = 'payment'
GROUP BY
  CAST(TRUNC(CAST(`e`.`event_time` AS DATE), 'WEEK') AS TIMESTAMP_NTZ)
