"""Key canonicalisation of module_utils/vedfin_cache.py (pure: no Redis)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

import pytest
from ansible.module_utils.vedfin_cache import (
    cache_key,
    canonical_json,
    leaderboard_params,
    normalize,
    params_digest,
)


def key(name, params, **kw):
    return cache_key(name, params, **kw)


# -- generic queries ----------------------------------------------------------------------
def test_generic_key_shape():
    k = key("top_courses", {"limit": 10})
    prefix, digest = k.rsplit(":", 1)
    assert prefix == "ved:v1:top_courses:1"
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert key("top_courses", {"limit": 10}, schema_version=7, query_version="fast").startswith(
        "ved:v7:top_courses:fast:"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # key order
        ({"start_date": dt.date(2024, 1, 5)}, {"start_date": "2024-01-05"}),  # date -> ISO
        ({"days": 30}, {"days": 30.0}),  # integral float -> int
        ({"days": 30}, {"days": Decimal("30")}),
        ({"t": 30.5}, {"t": Decimal("30.5")}),
        ({"ids": (1, 2)}, {"ids": [1, 2]}),  # tuple -> list
        ({"ids": {3, 1, 2}}, {"ids": [1, 2, 3]}),  # set -> sorted list
        ({"u": uuid.UUID(int=5)}, {"u": str(uuid.UUID(int=5))}),
        (
            {"at": dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)},
            {"at": dt.datetime(2024, 1, 1, 19, tzinfo=dt.timezone(dt.timedelta(hours=7)))},
        ),
        (None, {}),
    ],
)
def test_equal_after_normalisation_share_a_key(a, b):
    assert canonical_json(a) == canonical_json(b)
    assert key("q", a) == key("q", b)


def test_canonical_json_is_compact_and_sorted():
    assert canonical_json({"b": None, "a": dt.date(2024, 2, 29), "c": "Tiếng Việt"}) == (
        '{"a":"2024-02-29","b":null,"c":"Tiếng Việt"}'
    )


def test_different_params_never_share_a_key():
    calls = [
        {},
        {"course_id": None},  # None is kept: not the same call as {}
        {"course_id": "c1"},
        {"course_id": "c2"},
        {"course_id": "1"},
        {"course_id": 1},  # strings are never coerced
        {"course_id": True},
        {"course_id": ""},
        {"days": 30},
        {"days": 31},
        {"days": 30.5},
        {"days": 30, "tz": "UTC"},
        {"days": 30, "tz": "Asia/Ho_Chi_Minh"},
        {"start_date": "2024-01-01", "end_date": "2024-01-31"},
        {"start_date": "2024-01-31", "end_date": "2024-01-01"},  # swapped values
        {"ids": [1, 2]},
        {"ids": [2, 1]},
    ]
    keys = [key("q", c) for c in calls]
    assert len(set(keys)) == len(calls)
    # the query name, schema version and query version are part of the key
    assert (
        len({key("a", {}), key("b", {}), key("a", {}, schema_version=2), key("a", {}, query_version=2)}) == 4
    )
    assert key("a", {}, query_version=1) == key("a", {}, query_version="1")


def test_unusable_params_are_rejected():
    for bad in ({"x": float("nan")}, {"x": float("inf")}, {"x": Decimal("NaN")}):
        with pytest.raises(ValueError):
            key("q", bad)
    with pytest.raises(TypeError):
        key("q", {"x": object()})
    with pytest.raises(TypeError):
        normalize({1: "non-string key"})


# -- leaderboard --------------------------------------------------------------------------
def test_leaderboard_key_is_human_readable():
    assert key("leaderboard", {}, generation=0) == "ved:v1:leaderboard:global:all:50:g0"
    assert (
        key(
            "leaderboard",
            {"group_id": "b7c1", "timeframe": "week", "limit": 10},
            schema_version=3,
            generation=12,
        )
        == "ved:v3:leaderboard:b7c1:week:10:g12"
    )
    assert (
        key("leaderboard", {"timeframe": "month", "tz": "Asia/Ho_Chi_Minh"}, generation=4)
        == "ved:v1:leaderboard:global:month:50:tz=Asia/Ho_Chi_Minh:g4"
    )
    assert (
        key("leaderboard", {}, query_version="fast", generation=1)
        == "ved:v1:leaderboard:global:all:50:qfast:g1"
    )


def test_leaderboard_defaults_and_normalisation_share_a_key():
    same = [
        {},
        {"group_id": None},
        {"timeframe": "all", "limit": 50, "tz": "UTC"},
        {"limit": 50.0},
        {"limit": Decimal(50), "tz": None},
    ]
    assert len({key("leaderboard", p, generation=5) for p in same}) == 1
    assert leaderboard_params({"limit": 50.0}) == {
        "group_id": None,
        "timeframe": "all",
        "limit": 50,
        "tz": "UTC",
    }


def test_leaderboard_keys_are_injective():
    groups = [None, "global", "g1", "g:1", "g%3A1", "a:week:10", "tz=UTC", "50", "with space"]
    timeframes = ["all", "week", "month", "week:10"]
    limits = [10, 50, 100]
    tzs = ["UTC", "Asia/Ho_Chi_Minh", "Etc/GMT+7"]
    combos = list(itertools.product(groups, timeframes, limits, tzs))
    keys = {
        key("leaderboard", {"group_id": g, "timeframe": t, "limit": n, "tz": z}, generation=1)
        for g, t, n, z in combos
    }
    assert len(keys) == len(combos)
    # generation and versions separate boards too
    base = key("leaderboard", {}, generation=1)
    assert base != key("leaderboard", {}, generation=2)
    assert base != key("leaderboard", {}, generation=1, schema_version=2)
    assert base != key("leaderboard", {}, generation=1, query_version=2)
    assert key("leaderboard", {"group_id": "global"}, generation=1) == "ved:v1:leaderboard:%67lobal:all:50:g1"


def test_leaderboard_bad_params():
    with pytest.raises(ValueError, match="generation"):
        key("leaderboard", {})
    with pytest.raises(ValueError, match="unknown"):
        key("leaderboard", {"days": 3}, generation=1)
    with pytest.raises(ValueError, match="limit"):
        key("leaderboard", {"limit": "50"}, generation=1)
    with pytest.raises(ValueError, match="group_id"):
        key("leaderboard", {"group_id": 7}, generation=1)


def test_digest_is_sha256_prefix_of_canonical_json():
    import hashlib

    text = canonical_json({"days": 7})
    assert params_digest({"days": 7}) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert key("daily_active_users", {"days": 7}).endswith(":" + params_digest({"days": 7}))
