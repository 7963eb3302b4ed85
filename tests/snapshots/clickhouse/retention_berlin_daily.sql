WITH ru AS (
  SELECT
    "e"."user_id" AS _u,
    toStartOfDay(
      addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
      'UTC'
    ) AS _b,
    MIN(
      CASE
        WHEN "e"."event_name" = 'signup'
        THEN addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin')))
      END
    ) AS _t,
    MAX(
      CASE
        WHEN "e"."event_name" = 'purchase'
        AND addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))) >= toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC')
        THEN 1
        ELSE 0
      END
    ) AS _r
  FROM "events" AS "e"
  WHERE
    (
      "e"."event_time" < toDateTime64('2025-01-30 23:00:00.000000', 6, 'UTC')
      AND "e"."event_name" IN ('signup', 'purchase')
      AND (
        "e"."event_name" = 'signup'
        OR (
          "e"."event_name" = 'purchase'
          AND addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))) >= toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC')
        )
      )
    )
    AND NOT (
      "e"."user_id" IS NULL
    )
  GROUP BY
    "e"."user_id",
    toStartOfDay(
      addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
      'UTC'
    )
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
    UNION ALL
    SELECT
      14,
      toDateTime64('2025-01-24 00:00:00.000000', 6, 'UTC')
  ) AS v
), rf AS (
  SELECT
    ru._u AS _u,
    MIN(ru._t) AS _t
  FROM ru
  WHERE
    NOT (
      ru._t IS NULL
    )
  GROUP BY
    ru._u
), rc AS (
  SELECT
    rf._u AS _u,
    rk._k AS _c
  FROM rf
  JOIN rk
    ON toStartOfDay(rf._t, 'UTC') = rk._lo
  WHERE
    rf._t >= toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC')
    AND rf._t < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
), rr AS (
  SELECT
    ru._u AS _u,
    COALESCE(rk._k, 16) AS _k
  FROM ru
  LEFT JOIN rk
    ON ru._b = rk._lo
  WHERE
    ru._r = 1
)
SELECT
  toInt64(c._c) AS _c,
  toInt64(r._k - c._c) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rc AS c
JOIN rr AS r
  ON r._u = c._u
WHERE
  r._k > c._c AND r._k <= c._c + 5
GROUP BY
  c._c,
  r._k - c._c
UNION ALL
SELECT
  toInt64(c._c) AS _c,
  toInt64(0) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rc AS c
GROUP BY
  c._c
SETTINGS join_use_nulls = 1
