"""The server fixtures themselves: each starts a real server that answers."""

import psycopg
import redis


def test_postgres_fixture_is_real_pg15(pg_db):
    with psycopg.connect(**pg_db) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        checksums = conn.execute("SHOW data_checksums").fetchone()[0]
    assert 150000 <= int(version) < 160000
    assert checksums == "on"


def test_postgres_fixture_refuses_wrong_password(pg_server):
    import pytest

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.dsn().replace(pg_server.password, "wrong"))


def test_schema_fixture_loads_reference_schema(schema_db):
    with psycopg.connect(**schema_db) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {
        "User",
        "Course",
        "Lesson",
        "UserProgress",
        "BehaviorLog",
        "UserStreak",
        "UserAchievement",
        "Achievement",
        "BuddyGroup",
        "BuddyMember",
        "SocialPost",
        "UserRelationship",
    } <= tables


def test_redis_fixture_answers(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    assert client.ping()
    client.set("ved:test", "1", ex=5)
    assert client.ttl("ved:test") > 0
