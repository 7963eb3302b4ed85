WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    toStartOfDay(
      addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
      'UTC'
    ) AS _b,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        AND addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))) < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
        THEN toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
      END
    ) AS _t,
    MIN(
      CASE
        WHEN "e"."event_name" = 'login'
        THEN toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
      END
    ) AS _r0,
    MAX(
      CASE
        WHEN "e"."event_name" = 'login'
        THEN toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
      END
    ) AS _r1
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" >= toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
      AND "e"."event_time" < toDateTime64('2025-01-30 23:00:00.000000', 6, 'UTC')
      AND "e"."event_name" = 'login'
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
  GROUP BY
    "e"."user_id",
    toStartOfDay(
      addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
      'UTC'
    ),
    CAST((
      toUnixTimestamp64Micro(toDateTime64("e"."event_time", 6, 'UTC'))
    ) / 86400000000 AS Nullable(Int64))
), rk AS (
  SELECT
    *
  FROM (
    SELECT
      0 AS _k,
      toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC') AS _lo
    UNION ALL
    SELECT
      1,
      toDateTime64('2025-01-11 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      2,
      toDateTime64('2025-01-12 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      3,
      toDateTime64('2025-01-13 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      4,
      toDateTime64('2025-01-14 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      5,
      toDateTime64('2025-01-15 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      6,
      toDateTime64('2025-01-16 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      7,
      toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      8,
      toDateTime64('2025-01-18 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      9,
      toDateTime64('2025-01-19 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      10,
      toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      11,
      toDateTime64('2025-01-21 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      12,
      toDateTime64('2025-01-22 00:00:00.000000', 6, 'UTC')
    UNION ALL
    SELECT
      13,
      toDateTime64('2025-01-23 00:00:00.000000', 6, 'UTC')
  ) AS v
), rc AS (
  SELECT
    ru._u AS _u,
    rk._k AS _c,
    MIN(ru._t) AS _t
  FROM ru
  JOIN rk
    ON ru._b = rk._lo
  WHERE
    NOT (
      ru._t IS NULL
    )
  GROUP BY
    ru._u,
    rk._k
), rr AS (
  SELECT
    ru._u AS _u,
    ru._r0 AS _r0,
    ru._r1 AS _r1
  FROM ru
  WHERE
    NOT (
      ru._r0 IS NULL
    )
), rp AS (
  SELECT
    c._u AS _u,
    c._c AS _c,
    CAST((
      r._r0 - c._t
    ) / 86400000000 AS Nullable(Int64)) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r0 >= c._t + 86400000000 AND r._r0 < c._t + 432000000000
  UNION DISTINCT
  SELECT
    c._u AS _u,
    c._c AS _c,
    CAST((
      r._r1 - c._t
    ) / 86400000000 AS Nullable(Int64)) AS _p
  FROM rc AS c
  JOIN rr AS r
    ON r._u = c._u
  WHERE
    r._r1 >= c._t + 86400000000 AND r._r1 < c._t + 432000000000
)
SELECT
  toInt64(c._c) AS _c,
  toInt64(c._p) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rp AS c
GROUP BY
  c._c,
  c._p
UNION ALL
SELECT
  toInt64(c._c) AS _c,
  toInt64(0) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rc AS c
GROUP BY
  c._c
