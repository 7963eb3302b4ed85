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
), p0 AS (
  SELECT
    s0._b AS _b,
    s0._g0 AS _g0,
    CAST(SUM(s0._v) AS DOUBLE) AS _p
  FROM s0
  GROUP BY
    s0._b,
    s0._g0
), _rank AS (
  SELECT
    p0._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY CAST(SUM(p0._p) AS DOUBLE) DESC NULLS LAST, p0._g0) AS _rank
  FROM p0
  GROUP BY
    p0._g0
)
SELECT
  'A' AS series,
  p0._b AS bucket,
  CASE WHEN _rank._rank <= 3 THEN p0._g0 ELSE 'Other' END AS _g0,
  CAST(SUM(p0._p) AS DOUBLE) AS value
FROM p0
LEFT JOIN _rank
  ON COALESCE(p0._g0, '') = COALESCE(_rank._g0, '')
  AND (
    p0._g0 IS NULL
  ) = (
    _rank._g0 IS NULL
  )
GROUP BY
  p0._b,
  CASE WHEN _rank._rank <= 3 THEN p0._g0 ELSE 'Other' END
