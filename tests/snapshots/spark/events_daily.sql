SELECT
  'A' AS series,
  CAST(CAST(`e`.`event_time` AS DATE) AS TIMESTAMP_NTZ) AS bucket,
  CAST(COUNT(*) AS BIGINT) AS value
FROM `events` AS `e`
WHERE
  `e`.`event_time` >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_time` < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_name` = 'page_view'
GROUP BY
  CAST(CAST(`e`.`event_time` AS DATE) AS TIMESTAMP_NTZ)
