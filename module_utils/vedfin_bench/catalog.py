"""The benchmark's parameters, picked deterministically from the data: :func:`pick_ids` (the
most active users, most enrolled courses, largest buddy groups) and :func:`param_catalog`
(per query, the validated parameter sets; the first is the representative one)."""

from __future__ import annotations

import datetime as _dt

from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils.vedfin_bench.common import column, scalar
from ansible.module_utils.vedfin_pg import VedfinError

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"


def pick_ids(conn, k: int = 5, seed: int = 1) -> dict:
    """Deterministic ids from the data: the k most active users (events), the k most enrolled
    published courses (progress rows) and the k largest buddy groups; ties by id.

    Above 200 000 BehaviorLog rows the user ranking reads a ``TABLESAMPLE SYSTEM ... REPEATABLE
    (seed)`` of about 200 000 rows (deterministic for the same physical table).
    """
    reltuples = (
        scalar(conn, "SELECT reltuples::bigint FROM pg_class WHERE oid = '\"BehaviorLog\"'::regclass") or 0
    )
    if reltuples > 200_000:
        pct = max(0.01, min(100.0, 100.0 * 200_000 / reltuples))
        src = f'"BehaviorLog" TABLESAMPLE SYSTEM ({pct:.4f}) REPEATABLE ({int(seed)})'
        method = f"TABLESAMPLE SYSTEM ({pct:.4f}%) REPEATABLE ({int(seed)})"
    else:
        src, method = '"BehaviorLog"', "all rows"
    users = column(
        conn,
        f'SELECT "userId" FROM {src} WHERE "userId" IS NOT NULL '
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [k],
    )
    if len(users) < k:  # few or no events: fill with students by id
        users += column(
            conn,
            "SELECT id FROM \"User\" WHERE NOT (id = ANY(%s)) ORDER BY (role = 'STUDENT') DESC, id LIMIT %s",
            [users, k - len(users)],
        )
    courses = column(
        conn,
        'SELECT l."courseId" FROM "UserProgress" p JOIN "Lesson" l ON l.id = p."lessonId" '
        'JOIN "Course" c ON c.id = l."courseId" AND c.published '
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [k],
    )
    if len(courses) < k:
        courses += column(
            conn,
            'SELECT id FROM "Course" WHERE NOT (id = ANY(%s)) ORDER BY published DESC, id LIMIT %s',
            [courses, k - len(courses)],
        )
    groups = column(
        conn, 'SELECT "groupId" FROM "BuddyMember" GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s', [k]
    )
    return {"user_ids": users, "course_ids": courses, "group_ids": groups, "user_ranking": method}


def param_catalog(ids: dict, today: _dt.date, tz: str) -> dict[str, list[dict]]:
    """Per query, the parameter sets of the mixed workload; the first one is the
    representative set of the side-by-side measurements.  Every set is validated."""
    users = ids.get("user_ids") or [PLACEHOLDER_ID]
    courses = ids.get("course_ids") or [PLACEHOLDER_ID]
    groups = ids.get("group_ids") or []
    d = today
    raw = {
        "daily_active_users": [{"days": 30}, {"days": 7}, {"days": 90}],
        "monthly_active_users": [{"months": 12}, {"months": 3}],
        "learning_funnel": [{"course_id": None}] + [{"course_id": c} for c in courses[:3]],
        "course_completion_by_level": [{}],
        "leaderboard": [
            {"timeframe": "all"},
            {"timeframe": "week"},
            {"timeframe": "month"},
            *({"group_id": g, "timeframe": tf} for g, tf in zip(groups[:2], ("all", "week"), strict=False)),
        ],
        "top_courses": [{"limit": 10}, {"limit": 5}],
        "student_behavior_summary": [{"user_id": u, "days": 30} for u in users[:5]],
        "cohort_retention": [{"weeks": 12}, {"weeks": 4}],
        "at_risk_students": [{}, {"inactive_days": 14}],
        "student_behavior_pattern": [{"user_id": u, "days": 30} for u in users[:5]],
        "course_engagement": [{"course_id": c} for c in courses[:3]],
        "revenue_metrics": [
            {"start_date": d - _dt.timedelta(days=29), "end_date": d},
            {"start_date": d - _dt.timedelta(days=6), "end_date": d},
        ],
        "gamification_effectiveness": [{}],
    }
    out = {}
    for name, sets in raw.items():
        if name not in va.QUERIES:
            continue
        spec = va.QUERIES[name]
        clean_sets = []
        for s in sets:
            s = dict(s)
            if spec.param("tz") is not None:
                s["tz"] = tz
            clean_sets.append(va.validate(name, s))
        out[name] = clean_sets
    for name in va.QUERIES:  # a query added to the registry later still gets its defaults
        if name not in out:
            try:
                out[name] = [va.validate(name, {"tz": tz} if va.QUERIES[name].param("tz") else {})]
            except VedfinError:
                continue
    return out


def json_params(params: dict) -> dict:
    """A parameter set with dates as ISO strings (for the result)."""
    return {k: va.to_json_safe(v) for k, v in params.items()}
