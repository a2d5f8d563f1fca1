"""Parameter validation of the analytics registry (module_utils/vedfin_analytics.py); no database."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils.vedfin_analytics import AnalyticsError, validate

BAD = [
    # (query, params, words the message must contain)
    ("no_such_query", {}, ["unknown analytics query", "daily_active_users", "leaderboard"]),
    ("daily_active_users", {"dayz": 3}, ["unknown parameter dayz", "allowed: days, tz"]),
    ("daily_active_users", {"days": 0}, ["days", "out of range", "1..3650"]),
    ("daily_active_users", {"days": 3651}, ["out of range"]),
    ("daily_active_users", {"days": "thirty"}, ["days", "not a valid int"]),
    ("daily_active_users", {"days": 2.5}, ["days", "must be an integer"]),
    ("daily_active_users", {"days": True}, ["not a boolean"]),
    ("daily_active_users", {"tz": "Mars/Olympus"}, ["tz", "time zone"]),
    ("daily_active_users", {"tz": "UTC'; DROP TABLE x; --"}, ["tz", "time zone"]),
    ("monthly_active_users", {"months": -1}, ["months", "out of range"]),
    ("leaderboard", {"timeframe": "year"}, ["timeframe", "all|month|week"]),
    ("leaderboard", {"limit": 1001}, ["limit", "1..1000"]),
    ("leaderboard", {"limit": 0}, ["limit", "out of range"]),
    ("leaderboard", {"group_id": 7}, ["group_id", "must be a string"]),
    (
        "top_courses",
        {"limit": None, "extra": 1, "other": 2},
        ["unknown parameters extra, other", "allowed: limit"],
    ),
    ("student_behavior_summary", {}, ["user_id", "required"]),
    ("student_behavior_pattern", {"user_id": ""}, ["user_id", "must not be empty"]),
    ("course_engagement", {}, ["course_id", "required"]),
    ("at_risk_students", {"progress_threshold": 101}, ["progress_threshold", "out of range"]),
    ("at_risk_students", {"progress_threshold": float("nan")}, ["finite"]),
    ("at_risk_students", {"inactive_days": -1}, ["inactive_days", "out of range"]),
    ("revenue_metrics", {"start_date": "2026-02-01"}, ["end_date", "required"]),
    ("revenue_metrics", {"start_date": "2026-02-30", "end_date": "2026-03-01"}, ["start_date", "ISO date"]),
    ("revenue_metrics", {"start_date": "2026-03-02", "end_date": "2026-03-01"}, ["after end_date"]),
    ("revenue_metrics", {"start_date": "2000-01-01", "end_date": "2026-01-01"}, ["at most 3650"]),
    (
        "revenue_metrics",
        {"start_date": dt.datetime(2026, 1, 1, 5), "end_date": "2026-01-02"},
        ["must be a date, not a datetime"],
    ),
    ("course_completion_by_level", {"level": "EXPERT"}, ["unknown parameter level", "(none)"]),
    ("learning_funnel", {"course_id": ["a"]}, ["course_id", "must be a string"]),
]


@pytest.mark.parametrize("query,params,words", BAD, ids=[f"{q}-{i}" for i, (q, _, _) in enumerate(BAD)])
def test_bad_input_is_refused_with_a_clear_message(query, params, words):
    with pytest.raises(AnalyticsError) as err:
        validate(query, params)
    for w in words:
        assert w in str(err.value)


def test_defaults_are_filled():
    assert validate("daily_active_users") == {"days": 30, "tz": "UTC"}
    assert validate("leaderboard", {}) == {"group_id": None, "timeframe": "all", "limit": 50, "tz": "UTC"}
    assert validate("at_risk_students") == {
        "inactive_days": 7,
        "progress_threshold": 30,
        "limit": 100,
        "tz": "UTC",
    }
    assert validate("gamification_effectiveness", None) == {}


def test_values_are_normalised():
    assert validate("daily_active_users", {"days": "7", "tz": "Asia/Ho_Chi_Minh"})["days"] == 7
    assert validate("daily_active_users", {"days": 7.0})["days"] == 7
    assert validate("at_risk_students", {"progress_threshold": "12.5"})["progress_threshold"] == 12.5
    assert validate("at_risk_students", {"progress_threshold": Decimal("12.5")})["progress_threshold"] == 12.5
    r = validate("revenue_metrics", {"start_date": "2026-01-01", "end_date": dt.date(2026, 1, 1)})
    assert r["start_date"] == r["end_date"] == dt.date(2026, 1, 1)


def test_registry_covers_the_13_queries_with_sql_files():
    assert sorted(va.QUERIES) == sorted(
        [
            "daily_active_users",
            "monthly_active_users",
            "learning_funnel",
            "course_completion_by_level",
            "leaderboard",
            "top_courses",
            "student_behavior_summary",
            "cohort_retention",
            "at_risk_students",
            "student_behavior_pattern",
            "course_engagement",
            "revenue_metrics",
            "gamification_effectiveness",
        ]
    )
    for name, spec in va.QUERIES.items():
        for form in va.FORMS:
            text = va.sql_text(name, form)
            # Every declared parameter is used by every form, and no other is.
            declared = {p.name for p in spec.params}
            used = set(re.findall(r"%\((\w+)\)s", text))
            assert used == declared, (name, form, used ^ declared)


def test_unknown_form_is_refused():
    with pytest.raises(AnalyticsError, match="unknown form 'slow'; allowed: fast, oracle"):
        va.sql_path("top_courses", "slow")


def test_results_are_json_safe():
    row = {
        "d": dt.date(2026, 1, 2),
        "t": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        "n": Decimal("1.25"),
        "j": {"vi": "Ngọc", "x": [Decimal("2")]},
    }
    safe = va.to_json_safe(row)
    assert safe == {
        "d": "2026-01-02",
        "t": "2026-01-02T03:04:00+00:00",
        "n": 1.25,
        "j": {"vi": "Ngọc", "x": [2.0]},
    }
    json.dumps(safe)


def test_cache_ttls_cover_every_query_and_keep_the_apps_leaderboard_ttl():
    assert set(va.CACHE_TTL_SECONDS) == set(va.QUERIES)
    assert va.CACHE_TTL_SECONDS["leaderboard"] == 300
