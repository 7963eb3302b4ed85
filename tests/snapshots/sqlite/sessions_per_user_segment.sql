WITH _cohort AS (
  SELECT
    "e"."session_id" AS _u,
    CASE WHEN COUNT(*) >= 1 THEN 1 ELSE 0 END AS _f0
  FROM "events" AS "e"
  WHERE
    NOT "e"."session_id" IS NULL AND "e"."event_name" = 'purchase'
  GROUP BY
    "e"."session_id"
), pu0 AS (
  SELECT
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day', '-6 days', 'weekday 1') AS _b,
    "e"."session_id" AS _u,
    COUNT(*) AS _pu
  FROM "events" AS "e"
  WHERE
    (
      STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") >= '2025-01-01 00:00:00'
      AND STRFTIME('%Y-%m-%d %H:%M:%f', "e"."event_time") < '2025-01-31 00:00:00'
      AND "e"."event_name" = 'page_view'
      AND (
        "e"."session_id" IN (
          SELECT
            _u
          FROM _cohort
          WHERE
            _f0 = 1
        )
        AND NOT "e"."session_id" IS NULL
      )
    )
    AND NOT "e"."session_id" IS NULL
  GROUP BY
    DATETIME(REPLACE("e"."event_time", 'T', ' '), 'start of day', '-6 days', 'weekday 1'),
    "e"."session_id"
)
SELECT
  'A' AS series,
  pu0._b AS bucket,
  CAST(AVG(CAST(pu0._pu AS REAL)) AS REAL) AS value
FROM pu0
GROUP BY
  pu0._b
