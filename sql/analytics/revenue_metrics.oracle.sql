-- revenue_metrics (oracle)
-- Params: start_date date, end_date date (ISO, start <= end, at most 3650 days apart; both
--   required), tz text (default 'UTC').
-- Enrollment = a (user, course) pair with UserProgress on the course's lessons; its day is the
--   local date in tz of its first progress row (min createdAt). Published courses only.
-- Window: every local calendar day from start_date to end_date inclusive; days without new
--   enrollments appear with zeros.
-- Columns: date, new_enrollments ((user, course) pairs first enrolled that day),
--   potential_revenue (sum of Course.price over those pairs: two enrollments in courses with
--   the same price count twice), active_courses (distinct courses with a new enrollment that
--   day). Order: date ASC.
WITH enrollment AS (
    SELECT p."userId", l."courseId", ops.utc(min(p."createdAt")) AS first_at
    FROM "UserProgress" p JOIN "Lesson" l ON l."id" = p."lessonId"
    GROUP BY p."userId", l."courseId"
), new_enr AS (
    SELECT (e.first_at AT TIME ZONE %(tz)s::text)::date AS day, e."courseId", c."price"
    FROM enrollment e JOIN "Course" c ON c."id" = e."courseId" AND c."published"
    WHERE (e.first_at AT TIME ZONE %(tz)s::text)::date BETWEEN %(start_date)s::date AND %(end_date)s::date
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
