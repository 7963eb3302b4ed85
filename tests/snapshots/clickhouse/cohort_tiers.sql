WITH _cohort AS (
  SELECT
    "e"."user_id" AS _u,
    CASE
      WHEN COUNT(
        CASE
          WHEN "e"."event_time" >= toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
          AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
          THEN 1
        END
      ) >= 1
      AND COUNT(
        DISTINCT CASE
          WHEN "e"."event_time" >= toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
          AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
          THEN toStartOfDay("e"."event_time", 'UTC')
        END
      ) >= 2
      THEN 1
      ELSE 0
    END AS _f0,
    CASE
      WHEN COUNT(CASE WHEN "e"."event_name" = 'purchase' THEN 1 END) >= 1
      AND SUM(
        CASE
          WHEN "e"."event_name" = 'purchase'
          THEN CAST("e"."revenue" AS Nullable(Float64))
        END
      ) BETWEEN 1 AND 5
      THEN 1
      ELSE 0
    END AS _f1,
    CASE
      WHEN COUNT(CASE WHEN "e"."event_name" = 'purchase' THEN 1 END) >= 1
      AND COUNT(CASE WHEN "e"."event_name" = 'purchase' THEN 1 END) >= 2
      THEN 1
      ELSE 0
    END AS _f2,
    CASE
      WHEN COUNT(CASE WHEN "e"."event_name" = 'page_view' THEN 1 END) >= 1
      THEN 1
      ELSE 0
    END AS _f3
  FROM "events" AS "e"
  WHERE
    NOT (
      "e"."user_id" IS NULL
    )
    AND (
      (
        "e"."event_time" >= toDateTime64('2025-01-17 00:00:00.000000', 6, 'UTC')
        AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
      )
      OR "e"."event_name" = 'purchase'
      OR "e"."event_name" = 'page_view'
    )
  GROUP BY
    "e"."user_id"
)
SELECT
  'A' AS series,
  "e"."bucket" AS bucket,
  CASE
    WHEN "e"."user_id" IS NULL
    THEN 'rest'
    WHEN "e"."user_id" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f2 = 1
    )
    THEN 'buyer'
    WHEN "e"."user_id" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f3 = 1
    )
    THEN 'visitor'
    ELSE 'rest'
  END AS _g0,
  toInt64(COUNT("e"."user_id")) AS value
FROM (
  SELECT
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC') AS bucket,
    "e"."user_id" AS user_id
  FROM "events" AS "e"
  WHERE
    "e"."event_time" >= toDateTime64('2025-01-01 00:00:00.000000', 6, 'UTC')
    AND "e"."event_time" < toDateTime64('2025-01-31 00:00:00.000000', 6, 'UTC')
  GROUP BY
    toDateTime(toMonday("e"."event_time", 'UTC'), 'UTC'),
    "e"."user_id"
) AS "e"
WHERE
  "e"."user_id" IN (
    SELECT
      _u
    FROM _cohort
    WHERE
      _f0 = 1 AND _f1 = 0
  )
  AND NOT (
    "e"."user_id" IS NULL
  )
GROUP BY
  "e"."bucket",
  CASE
    WHEN "e"."user_id" IS NULL
    THEN 'rest'
    WHEN "e"."user_id" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f2 = 1
    )
    THEN 'buyer'
    WHEN "e"."user_id" IN (
      SELECT
        _u
      FROM _cohort
      WHERE
        _f3 = 1
    )
    THEN 'visitor'
    ELSE 'rest'
  END
