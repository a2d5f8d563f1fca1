-- revenue_metrics (fast form) - same params, window, columns and order as the oracle.
-- Reads ops.enrollment (migration 0004: one row per (user, course) with "firstAt" =
-- min("createdAt") of the user's progress on the course, maintained by triggers) through its
-- ("firstAt") INCLUDE ("courseId") index (migration 0008): only the enrollments of the
-- requested days are read, index-only, instead of aggregating all of "UserProgress". The
-- index range is widened by a day on each side; the exact test is on the local date, as in
-- the oracle.
-- Freshness: real time (statement-level triggers on "UserProgress" and "Lesson").
WITH new_enr AS (
    SELECT (e."firstAt" AT TIME ZONE %(tz)s::text)::date AS day, e."courseId", c."price"
    FROM ops.enrollment e JOIN "Course" c ON c."id" = e."courseId" AND c."published"
    WHERE e."firstAt" >= (%(start_date)s::date::timestamp AT TIME ZONE %(tz)s::text) - interval '1 day'
      AND e."firstAt" < ((%(end_date)s::date + 1)::timestamp AT TIME ZONE %(tz)s::text) + interval '1 day'
      AND (e."firstAt" AT TIME ZONE %(tz)s::text)::date BETWEEN %(start_date)s::date AND %(end_date)s::date
), agg AS (
    SELECT day, count(*) AS new_enrollments, sum("price") AS potential_revenue,
           count(DISTINCT "courseId") AS active_courses
    FROM new_enr GROUP BY day
)
SELECT d.day::date AS date,
       coalesce(a.new_enrollments, 0) AS new_enrollments,
       coalesce(a.potential_revenue, 0) AS potential_revenue,
       coalesce(a.active_courses, 0) AS active_courses
FROM generate_series(%(start_date)s::date, %(end_date)s::date, interval '1 day') AS d(day)
LEFT JOIN agg a ON a.day = d.day::date
ORDER BY d.day
