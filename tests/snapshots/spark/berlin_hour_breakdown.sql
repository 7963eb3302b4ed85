SELECT
  'A' AS series,
  TIMESTAMPADD(
    HOUR,
    HOUR(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', `e`.`event_time`)),
    CAST(CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', `e`.`event_time`) AS DATE) AS TIMESTAMP_NTZ)
  ) AS bucket,
  `e`.`platform` AS _g0,
  CAST(COUNT(*) AS BIGINT) AS value
FROM `events` AS `e`
WHERE
  `e`.`event_time` >= CAST('2025-01-14 23:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_time` < CAST('2025-01-15 23:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_name` = 'page_view'
GROUP BY
  TIMESTAMPADD(
    HOUR,
    HOUR(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', `e`.`event_time`)),
    CAST(CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', `e`.`event_time`) AS DATE) AS TIMESTAMP_NTZ)
  ),
  `e`.`platform`
