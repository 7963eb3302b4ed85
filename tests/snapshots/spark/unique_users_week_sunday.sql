SELECT
  'A' AS series,
  TIMESTAMPADD(
    DAY,
    6,
    CAST(TRUNC(CAST(TIMESTAMPADD(DAY, -6, `e`.`event_time`) AS DATE), 'WEEK') AS TIMESTAMP_NTZ)
  ) AS bucket,
  CAST(COUNT(DISTINCT `e`.`user_id`) AS BIGINT) AS value
FROM `events` AS `e`
WHERE
  `e`.`event_time` >= CAST('2025-01-05 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_time` < CAST('2025-01-26 00:00:00.000000' AS TIMESTAMP_NTZ)
  AND `e`.`event_name` = 'login'
GROUP BY
  TIMESTAMPADD(
    DAY,
    6,
    CAST(TRUNC(CAST(TIMESTAMPADD(DAY, -6, `e`.`event_time`) AS DATE), 'WEEK') AS TIMESTAMP_NTZ)
  )
