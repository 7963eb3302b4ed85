WITH pu0 AS (
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
          SELECT DISTINCT
            "E"."SESSION_ID"
          FROM "EVENTS" AS "E"
          WHERE
            "E"."EVENT_NAME" = 'purchase' AND NOT "E"."SESSION_ID" IS NULL
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
