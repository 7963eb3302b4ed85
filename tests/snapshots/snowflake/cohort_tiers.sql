WITH _cohort AS (
  SELECT
    "E"."USER_ID" AS _u,
    CASE
      WHEN COUNT(
        CASE
          WHEN "E"."EVENT_TIME" >= CAST('2025-01-17 00:00:00.000000' AS TIMESTAMPNTZ)
          AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
          THEN 1
        END
      ) >= 1
      AND COUNT(
        DISTINCT CASE
          WHEN "E"."EVENT_TIME" >= CAST('2025-01-17 00:00:00.000000' AS TIMESTAMPNTZ)
          AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
          THEN DATE_TRUNC('DAY', "E"."EVENT_TIME")
        END
      ) >= 2
      THEN 1
      ELSE 0
    END AS _f0,
    CASE
      WHEN COUNT(CASE WHEN "E"."EVENT_NAME" = 'purchase' THEN 1 END) >= 1
      AND SUM(CASE WHEN "E"."EVENT_NAME" = 'purchase' THEN CAST("E"."REVENUE" AS DOUBLE) END) BETWEEN 1 AND 5
      THEN 1
      ELSE 0
    END AS _f1,
    CASE
      WHEN COUNT(CASE WHEN "E"."EVENT_NAME" = 'purchase' THEN 1 END) >= 1
      AND COUNT(CASE WHEN "E"."EVENT_NAME" = 'purchase' THEN 1 END) >= 2
      THEN 1
      ELSE 0
    END AS _f2,
    CASE
      WHEN COUNT(CASE WHEN "E"."EVENT_NAME" = 'page_view' THEN 1 END) >= 1
      THEN 1
      ELSE 0
    END AS _f3
  FROM "EVENTS" AS "E"
  WHERE
    NOT "E"."USER_ID" IS NULL
    AND (
      (
        "E"."EVENT_TIME" >= CAST('2025-01-17 00:00:00.000000' AS TIMESTAMPNTZ)
        AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
      )
      OR "E"."EVENT_NAME" = 'purchase'
      OR "E"."EVENT_NAME" = 'page_view'
    )
  GROUP BY
    "E"."USER_ID"
)
SELECT
  'A' AS series,
  "E"."BUCKET" AS bucket,
  CASE
    WHEN "E"."USER_ID" IS NULL
    THEN 'rest'
    WHEN "E"."USER_ID" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f2 = 1
    )
    THEN 'buyer'
    WHEN "E"."USER_ID" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f3 = 1
    )
    THEN 'visitor'
    ELSE 'rest'
  END AS _g0,
  CAST(COUNT("E"."USER_ID") AS BIGINT) AS value
FROM (
  SELECT DISTINCT
    DATEADD(DAY, 1 - DAYOFWEEKISO("E"."EVENT_TIME"), DATE_TRUNC('DAY', "E"."EVENT_TIME")) AS bucket,
    "E"."USER_ID" AS user_id
  FROM "EVENTS" AS "E"
  WHERE
    "E"."EVENT_TIME" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMPNTZ)
    AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
) AS "E"
WHERE
  "E"."USER_ID" IN (
    SELECT
      _u
    FROM _cohort
    WHERE
      _f0 = 1 AND _f1 = 0
  )
  AND NOT "E"."USER_ID" IS NULL
GROUP BY
  "E"."BUCKET",
  CASE
    WHEN "E"."USER_ID" IS NULL
    THEN 'rest'
    WHEN "E"."USER_ID" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f2 = 1
    )
    THEN 'buyer'
    WHEN "E"."USER_ID" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f3 = 1
    )
    THEN 'visitor'
    ELSE 'rest'
  END
