WITH _cohort AS (
  SELECT
    "u0"."account_id" AS _u,
    CASE WHEN COUNT(*) >= 1 THEN 1 ELSE 0 END AS _f0
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    NOT "u0"."account_id" IS NULL
    AND (
      "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP(6))
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP(6))
      AND "e"."event_name" = 'purchase'
    )
  GROUP BY
    "u0"."account_id"
), fe AS (
  SELECT
    "u0"."account_id" AS _u,
    DATE_DIFF('MICROSECOND', CAST('1970-01-01 00:00:00' AS TIMESTAMP(6)), "e"."event_time") AS _t,
    CASE
      WHEN "u0"."account_id" IS NULL
      THEN 'rest'
      WHEN "u0"."account_id" IN (
        SELECT
          _u
        FROM _cohort
        WHERE
          _f0 = 1
      )
      THEN 'buyer'
      ELSE 'rest'
    END AS _g0,
    CASE WHEN "e"."event_name" = 'login' THEN 1 ELSE 0 END AS _m1,
    CASE WHEN "e"."event_name" = 'purchase' THEN 1 ELSE 0 END AS _m2
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-01 00:00:00.000000' AS TIMESTAMP(6))
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP(6))
      AND "e"."event_name" IN ('login', 'purchase')
    )
    AND NOT "u0"."account_id" IS NULL
), fw AS (
  SELECT
    fe._u AS _u,
    fe._t AS _t,
    fe._g0 AS _g0,
    fe._m1 AS _m1,
    fe._m2 AS _m2,
    MIN(CASE WHEN fe._m2 = 1 THEN fe._t END) OVER (
      PARTITION BY fe._u
      ORDER BY fe._t DESC
      RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS _n2
  FROM fe
), fa AS (
  SELECT
    fw._u AS _u,
    fw._g0 AS _g0,
    fw._t AS _s1,
    CASE WHEN fw._n2 <= fw._t + 604800000000 THEN fw._n2 END AS _s2
  FROM fw
  WHERE
    fw._m1 = 1 AND (
      fw._t >= 1735689600000000 AND fw._t < 1738281600000000
    )
), fc AS (
  SELECT
    fa._u AS _u,
    fa._g0 AS _g0,
    fa._s1 AS _s1,
    fa._s2 AS _s2,
    1 + CASE WHEN NOT fa._s2 IS NULL THEN 1 ELSE 0 END AS _m,
    1 AS _ok
  FROM fa
), fb AS (
  SELECT
    fc._u AS _u,
    fc._g0 AS _g0,
    fc._s1 AS _s1,
    fc._s2 AS _s2,
    fc._m AS _m,
    ROW_NUMBER() OVER (PARTITION BY fc._u, fc._g0 ORDER BY fc._m DESC, fc._s1 DESC, fc._s2) AS _r
  FROM fc
  WHERE
    fc._ok = 1
), fk AS (
  SELECT
    *
  FROM (VALUES
    (1),
    (2)) AS v(_k)
), fd AS (
  SELECT
    fo._g0 AS _g0,
    fk._k AS _k,
    CAST(CASE WHEN fk._k = 2 THEN fo._s2 - fo._s1 END AS DOUBLE) / 1000000.0 AS _d,
    ROW_NUMBER() OVER (
      PARTITION BY fo._g0, fk._k
      ORDER BY CAST(CASE WHEN fk._k = 2 THEN fo._s2 - fo._s1 END AS DOUBLE) / 1000000.0
    ) AS _rn,
    COUNT(*) OVER (PARTITION BY fo._g0, fk._k) AS _n
  FROM fb AS fo
  JOIN fk
    ON fo._m >= fk._k
  WHERE
    fo._r = 1
)
SELECT
  fd._g0 AS _g0,
  CAST(fd._k AS BIGINT) AS step,
  CAST(COUNT(*) AS BIGINT) AS count,
  CAST(AVG(fd._d) AS DOUBLE) AS avg_seconds,
  CAST(AVG(CASE WHEN 2 * fd._rn >= fd._n AND 2 * fd._rn <= fd._n + 2 THEN fd._d END) AS DOUBLE) AS median_seconds
FROM fd
GROUP BY
  fd._g0,
  fd._k
