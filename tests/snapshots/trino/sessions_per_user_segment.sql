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
    DATE_TRUNC('WEEK', "e"."event_time") AS _b,
    "e"."session_id" AS _u,
    COUNT(*) AS _pu
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP(6))
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP(6))
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
    DATE_TRUNC('WEEK', "e"."event_time"),
    "e"."session_id"
)
SELECT
  'A' AS series,
  pu0._b AS bucket,
  CAST(AVG(CAST(pu0._pu AS DOUBLE)) AS DOUBLE) AS value
FROM pu0
GROUP BY
  pu0._b
