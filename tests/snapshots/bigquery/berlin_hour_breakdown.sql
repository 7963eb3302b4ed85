SELECT
  'A' AS series,
  DATETIME_TRUNC(DATETIME(TIMESTAMP(`e`.`event_time`, 'UTC'), 'Europe/Berlin'), HOUR) AS bucket,
  `e`.`platform` AS _g0,
  CAST(COUNT(*) AS INT64) AS value
FROM `events` AS `e`
WHERE
  `e`.`event_time` >= CAST('2025-01-14 23:00:00.000000' AS DATETIME)
  AND `e`.`event_time` < CAST('2025-01-15 23:00:00.000000' AS DATETIME)
  AND `e`.`event_name` = 'page_view'
GROUP BY
  DATETIME_TRUNC(DATETIME(TIMESTAMP(`e`.`event_time`, 'UTC'), 'Europe/Berlin'), HOUR),
  `e`.`platform`
