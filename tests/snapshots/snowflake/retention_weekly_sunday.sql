WITH ru AS (
  SELECT
    "E"."USER_ID" AS _u,
    DATEADD(
      DAY,
      6,
      DATEADD(
        DAY,
        1 - DAYOFWEEKISO(DATEADD(DAY, -6, "E"."EVENT_TIME")),
        DATE_TRUNC('DAY', DATEADD(DAY, -6, "E"."EVENT_TIME"))
      )
    ) AS _b,
    MAX(
      CASE
        WHEN "E"."EVENT_NAME" = 'login'
        AND "E"."EVENT_TIME" < CAST('2025-01-26 00:00:00.000000' AS TIMESTAMPNTZ)
        THEN 1
        ELSE 0
      END
    ) AS _s,
    1 AS _r
  FROM "EVENTS" AS "E"
  WHERE
    (
      "E"."EVENT_TIME" >= CAST('2025-01-05 00:00:00.000000' AS TIMESTAMPNTZ)
      AND "E"."EVENT_TIME" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMPNTZ)
    )
    AND NOT "E"."USER_ID" IS NULL
  GROUP BY
    "E"."USER_ID",
    DATEADD(
      DAY,
      6,
      DATEADD(
        DAY,
        1 - DAYOFWEEKISO(DATEADD(DAY, -6, "E"."EVENT_TIME")),
        DATE_TRUNC('DAY', DATEADD(DAY, -6, "E"."EVENT_TIME"))
      )
    )
), rk AS (
  SELECT
    *
  FROM (VALUES
    (0, CAST('2025-01-05 00:00:00.000000' AS TIMESTAMPNTZ)),
    (1, CAST('2025-01-12 00:00:00.000000' AS TIMESTAMPNTZ)),
    (2, CAST('2025-01-19 00:00:00.000000' AS TIMESTAMPNTZ)),
    (3, CAST('2025-01-26 00:00:00.000000' AS TIMESTAMPNTZ))) AS v(_k, _lo)
), rc AS (
  SELECT
    ru._u AS _u,
    rk._k AS _c,
    "_LU0"."COUNTRY" AS _g0
  FROM ru
  JOIN rk
    ON ru._b = rk._lo
  LEFT JOIN "USERS" AS "_LU0"
    ON "_LU0"."USER_ID" = ru._u
  WHERE
    ru._s = 1
), rr AS (
  SELECT
    ru._u AS _u,
    COALESCE(rk._k, 12) AS _k
  FROM ru
  LEFT JOIN rk
    ON ru._b = rk._lo
  WHERE
    ru._r = 1
), rm AS (
  SELECT
    rr._u AS _u,
    MAX(rr._k) AS _k
  FROM rr
  GROUP BY
    rr._u
)
SELECT
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(CASE WHEN r._k - c._c > 8 THEN 8 ELSE r._k - c._c END AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rc AS c
JOIN rm AS r
  ON r._u = c._u
WHERE
  r._k > c._c
GROUP BY
  c._c,
  c._g0,
  CASE WHEN r._k - c._c > 8 THEN 8 ELSE r._k - c._c END
UNION ALL
SELECT
  CAST(c._c AS BIGINT) AS _c,
  c._g0 AS _g0,
  CAST(0 AS BIGINT) AS _p,
  CAST(COUNT(*) AS BIGINT) AS _n
FROM rc AS c
GROUP BY
  c._c,
  c._g0
