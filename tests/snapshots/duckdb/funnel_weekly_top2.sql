WITH fe AS (
  SELECT
    "e"."user_id" AS _u,
    EPOCH_US("e"."event_time") AS _t,
    DATE_TRUNC('WEEK', "e"."event_time") AS _b,
    "u0"."country" AS _g0,
    "e"."platform" AS _h0,
    CASE
      WHEN "e"."event_name" = 'login' AND NOT "e"."platform" IS NULL
      THEN 1
      ELSE 0
    END AS _m1,
    CASE
      WHEN "e"."event_name" = 'page_view' AND NOT "e"."platform" IS NULL
      THEN 1
      ELSE 0
    END AS _m2,
    CASE
      WHEN "e"."event_name" = 'purchase' AND NOT "e"."platform" IS NULL
      THEN 1
      ELSE 0
    END AS _m3,
    CASE WHEN "e"."event_name" = 'push_sent' THEN 1 ELSE 0 END AS _x1
  FROM "events" AS "e"
  LEFT JOIN "users" AS "u0"
    ON "u0"."user_id" = "e"."user_id"
  WHERE
    (
      "e"."event_time" >= CAST('2025-01-06 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_time" < CAST('2025-01-31 00:00:00.000000' AS TIMESTAMP)
      AND "e"."event_name" IN ('login', 'page_view', 'purchase', 'push_sent')
    )
    AND NOT "e"."user_id" IS NULL
), fa AS (
  SELECT
    fe._u AS _u,
    fe._h0 AS _h0,
    fe._b AS _b,
    fe._g0 AS _g0,
    fe._t AS _s1
  FROM fe
  WHERE
    fe._m1 = 1 AND (
      fe._t >= 1736121600000000 AND fe._t < 1737936000000000
    )
), fs2 AS (
  SELECT
    fe._u AS _u,
    fe._h0 AS _h0,
    fe._t AS _t
  FROM fe
  WHERE
    fe._m2 = 1
), f2 AS (
  SELECT
    p._u AS _u,
    p._h0 AS _h0,
    p._b AS _b,
    p._g0 AS _g0,
    p._s1 AS _s1,
    CASE WHEN l._t <= p._s1 + 604800000000 THEN l._t END AS _s2
  FROM fa AS p
  ASOF LEFT JOIN fs2 AS l
    ON p._u = l._u AND p._h0 = l._h0 AND l._t > p._s1
), fx1 AS (
  SELECT
    fe._u AS _u,
    fe._t AS _t
  FROM fe
  WHERE
    fe._x1 = 1
), fe2_1 AS (
  SELECT
    p._u AS _u,
    p._h0 AS _h0,
    p._b AS _b,
    p._g0 AS _g0,
    p._s1 AS _s1,
    p._s2 AS _s2,
    l._t AS _e1
  FROM f2 AS p
  ASOF LEFT JOIN fx1 AS l
    ON p._u = l._u AND l._t > p._s2
), fs3 AS (
  SELECT
    fe._u AS _u,
    fe._h0 AS _h0,
    fe._t AS _t
  FROM fe
  WHERE
    fe._m3 = 1
), f3 AS (
  SELECT
    p._u AS _u,
    p._h0 AS _h0,
    p._b AS _b,
    p._g0 AS _g0,
    p._s1 AS _s1,
    p._s2 AS _s2,
    p._e1 AS _e1,
    CASE WHEN l._t <= p._s1 + 604800000000 THEN l._t END AS _s3
  FROM fe2_1 AS p
  ASOF LEFT JOIN fs3 AS l
    ON p._u = l._u AND p._h0 = l._h0 AND l._t > p._s2
), fc AS MATERIALIZED (
  SELECT
    f3._u AS _u,
    f3._h0 AS _h0,
    f3._b AS _b,
    f3._g0 AS _g0,
    f3._s1 AS _s1,
    f3._s2 AS _s2,
    f3._e1 AS _e1,
    f3._s3 AS _s3,
    1 + CASE WHEN NOT f3._s2 IS NULL THEN 1 ELSE 0 END + CASE WHEN NOT f3._s3 IS NULL THEN 1 ELSE 0 END AS _m,
    CASE
      WHEN NOT f3._s2 IS NULL AND f3._e1 < COALESCE(f3._s3, f3._s1 + 604800000000)
      THEN 0
      ELSE 1
    END AS _ok
  FROM f3
), fr AS (
  SELECT
    fc._g0,
    fc._u
  FROM fc
  WHERE
    fc._ok = 1
), _rank AS (
  SELECT
    fr._g0 AS _g0,
    ROW_NUMBER() OVER (ORDER BY COUNT(DISTINCT fr._u) DESC, fr._g0) AS _rank
  FROM fr
  GROUP BY
    fr._g0
), fb AS (
  SELECT
    fc._u AS _u,
    fc._b AS _b,
    CASE WHEN _rank._rank <= 2 THEN fc._g0 ELSE 'Other' END AS _g0,
    fc._s1 AS _s1,
    fc._s2 AS _s2,
    fc._s3 AS _s3,
    fc._m AS _m,
    ROW_NUMBER() OVER (
      PARTITION BY fc._u, fc._b, CASE WHEN _rank._rank <= 2 THEN fc._g0 ELSE 'Other' END
      ORDER BY fc._m DESC, fc._s1 DESC, fc._s2, fc._s3
    ) AS _r
  FROM fc
  LEFT JOIN _rank
    ON COALESCE(fc._g0, '') = COALESCE(_rank._g0, '')
    AND (
      fc._g0 IS NULL
    ) = (
      _rank._g0 IS NULL
    )
  WHERE
    fc._ok = 1
), fk AS (
  SELECT
    *
  FROM (VALUES
    (1),
    (2),
    (3)) AS v(_k)
), fd AS (
  SELECT
    fo._b AS _b,
    fo._g0 AS _g0,
    fk._k AS _k,
    CAST(CASE WHEN fk._k = 2 THEN fo._s2 - fo._s1 WHEN fk._k = 3 THEN fo._s3 - fo._s2 END AS DOUBLE) / 1000000.0 AS _d,
    ROW_NUMBER() OVER (
      PARTITION BY fo._b, fo._g0, fk._k
      ORDER BY CAST(CASE WHEN fk._k = 2 THEN fo._s2 - fo._s1 WHEN fk._k = 3 THEN fo._s3 - fo._s2 END AS DOUBLE) / 1000000.0
    ) AS _rn,
    COUNT(*) OVER (PARTITION BY fo._b, fo._g0, fk._k) AS _n
  FROM fb AS fo
  JOIN fk
    ON fo._m >= fk._k
  WHERE
    fo._r = 1
)
SELECT
  fd._b AS bucket,
  fd._g0 AS _g0,
  CAST(fd._k AS BIGINT) AS step,
  CAST(COUNT(*) AS BIGINT) AS count,
  CAST(AVG(fd._d) AS DOUBLE) AS avg_seconds,
  CAST(AVG(CASE WHEN 2 * fd._rn >= fd._n AND 2 * fd._rn <= fd._n + 2 THEN fd._d END) AS DOUBLE) AS median_seconds
FROM fd
GROUP BY
  fd._b,
  fd._g0,
  fd._k
