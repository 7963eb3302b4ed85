WITH ru AS (
  SELECT
    x._u AS _u,
    x._b AS _b,
    MIN(x._t) AS _t,
    MAX(x._r) AS _r
  FROM (
    SELECT
      "e"."user_id" AS _u,
      toStartOfDay(
        addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
        'UTC'
      ) AS _b,
      CASE
        WHEN "e"."event_name" = 'signup'
        THEN addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin')))
      END AS _t,
      0 AS _r
    FROM "events" AS "e"
    WHERE
      (
        (
          "e"."event_time" < toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
          AND "e"."event_name" IN ('signup', 'purchase')
        )
        AND "e"."event_name" = 'signup'
      )
      AND NOT (
        "e"."user_id" IS NULL
      )
    UNION ALL
    SELECT
      "e"."user_id" AS _u,
      toStartOfDay(
        addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin'))),
        'UTC'
      ) AS _b,
      CASE
        WHEN "e"."event_name" = 'signup'
        THEN addSeconds("e"."event_time", timeZoneOffset(toTimeZone("e"."event_time", 'Europe/Berlin')))
      END AS _t,
      CASE WHEN "e"."event_name" = 'purchase' THEN 1 ELSE 0 END AS _r
    FROM "events" AS "e"
    WHERE
      (
        (
          "e"."event_time" >= toDateTime64('2025-01-09 23:00:00.000000', 6, 'UTC')
          AND "e"."event_time" < toDateTime64('2025-01-30 23:00:00.000000', 6, 'UTC')
          AND "e"."event_name" IN ('signup', 'purchase')
        )
        AND (
          "e"."event_name" = 'signup' OR (
            "e"."event_name" = 'purchase'
          )
        )
      )
      AND NOT (
        "e"."user_id" IS NULL
      )
  ) AS x
  GROUP BY
    x._u,
    x._b
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
    MIN(ru._t) AS _m,
    MIN(CASE WHEN NOT (
      ru._t IS NULL
    ) THEN ru._b END) AS _cb
  FROM ru
  GROUP BY
    ru._u
  HAVING
    MIN(ru._t) >= toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC')
    AND MIN(ru._t) < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
), rw AS (
  SELECT
    ru._u AS _u,
    ru._b AS _b,
    ru._r AS _r,
    rf._m AS _m,
    rf._cb AS _cb
  FROM ru
  JOIN rf
    ON rf._u = ru._u
)
SELECT
  toInt64(c._k) AS _c,
  toInt64(CASE WHEN rw._b = rw._cb THEN 0 ELSE COALESCE(p._k, 16) - c._k END) AS _p,
  toInt64(COUNT(*)) AS _n
FROM rw
JOIN rk AS c
  ON c._lo = rw._cb
LEFT JOIN rk AS p
  ON p._lo = rw._b
WHERE
  (
    rw._m >= toDateTime64('2025-01-10 00:00:00.000000', 6, 'UTC')
    AND rw._m < toDateTime64('2025-01-20 00:00:00.000000', 6, 'UTC')
  )
  AND (
    rw._b = rw._cb
    OR (
      rw._r = 1 AND COALESCE(p._k, 16) - c._k >= 1 AND COALESCE(p._k, 16) - c._k <= 5
    )
  )
GROUP BY
  c._k,
  CASE WHEN rw._b = rw._cb THEN 0 ELSE COALESCE(p._k, 16) - c._k END
SETTINGS join_use_nulls = 1
