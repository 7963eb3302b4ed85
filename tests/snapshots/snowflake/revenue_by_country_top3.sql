WITH s0 AS (
  SELECT
    "E"."USER_ID" AS _u,
    DATEADD(DAY, 1 - DAYOFWEEKISO("E"."EVENT_TIME"), DATE_TRUNC('DAY', "E"."EVENT_TIME")) AS _b,
    "U0"."COUNTRY" AS _g0,
    CAST("E"."REVENUE" AS DOUBLE) AS _v
  FROM "EVENTS" AS "E"
  LEFT JOIN "USERS" AS "U0"
    ON "U0"."USER_ID" = "E"."USER_ID"
  WHERE
    "E"."EVENT_TIME" >= CAST('2025-01-03 00:00:00.000000' AS TIMESTAMPNTZ)
    AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
    AND "E"."EVENT_NAME" = 'purchase'
), _rank AS (
  SELECT
    s0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY CAST(SUM(s0._v) AS DOUBLE) DESC NULLS LAST, s0._g0) AS _rank
  FROM s0
  GROUP BY
    s0._g0
)
SELECT
  'A' AS series,
  s0._b AS bucket,
  CASE WHEN _rank._rank <= 3 THEN s0._g0 ELSE 'Other' END AS _g0,
  CAST(SUM(s0._v) AS DOUBLE) AS value
FROM s0
LEFT JOIN _rank
  ON COALESCE(s0._g0, '') = COALESCE(_rank._g0, '')
  AND (
    s0._g0 IS NULL
  ) = (
    _rank._g0 IS NULL
  )
GROUP BY
  s0._b,
  CASE WHEN _rank._rank <= 3 THEN s0._g0 ELSE 'Other' END
