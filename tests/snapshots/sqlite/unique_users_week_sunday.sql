SELECT
  'A' AS series,
  DATETIME(
    DATETIME(
      DATETIME(REPLACE("e"."event_time", 'T', ' '), '-6 days'),
      'start of day',
      '-6 days',
      'weekday 1'
    ),
    '+6 days'
  ) AS bucket,
  CAST(COUNT(DISTINCT "e"."user_id") AS INTEGER) AS value
FROM "events" AS "e"
WHERE
  STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-05 00:00:00'
  AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-26 00:00:00'
  AND "e"."event_name" = 'login'
GROUP BY
  DATETIME(
    DATETIME(
      DATETIME(REPLACE("e"."event_time", 'T', ' '), '-6 days'),
      'start of day',
      '-6 days',
      'weekday 1'
    ),
    '+6 days'
  )
