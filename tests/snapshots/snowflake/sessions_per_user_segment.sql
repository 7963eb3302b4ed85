WITH _cohort AS (
  SELECT
    "E"."SESSION_ID" AS _u,
    CASE WHEN COUNT(*) >= 1 THEN 1 ELSE 0 END AS _f0
  FROM "EVENTS" AS "E"
  WHERE
    NOT "E"."SESSION_ID" IS NULL AND "E"."EVENT_NAME" = 'purchase'
  GROUP BY
    "E"."SESSION_ID"
), pu0 AS (
  SELECT
    DATEADD(DAY, 1 - DAYOFWEEKISO("E"."EVENT_TIME"), DATE_TRUNC('DAY', "E"."EVENT_TIME")) AS _b,
    "E"."SESSION_ID" AS _u,
    COUNT(*) AS _pu
  FROM "EVENTS" AS "E"
  WHERE
    (
      "E"."EVENT_TIME" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMPNTZ)
      AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
      AND "E"."EVENT_NAME" = 'page_view'
      AND (
        "E"."SESSION_ID" IN (
          SELECT
            _u
          FROM _cohort
          WHERE
            _f0 = 1
        )
        AND NOT "E"."SESSION_ID" IS NULL
      )
    )
    AND NOT "E"."SESSION_ID" IS NULL
  GROUP BY
    DATEADD(DAY, 1 - DAYOFWEEKISO("E"."EVENT_TIME"), DATE_TRUNC('DAY', "E"."EVENT_TIME")),
    "E"."SESSION_ID"
)
SELECT
  'A' AS series,
  pu0._b AS bucket,
  CAST(AVG(CAST(pu0._pu AS DOUBLE)) AS DOUBLE) AS value
FROM pu0
GROUP BY
  pu0._b
