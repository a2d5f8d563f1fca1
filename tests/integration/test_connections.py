"""The shared connection helpers (vedfin_pg, vedfin_redis) against real servers: a refused
login names where it went, never the password."""

from __future__ import annotations

import pytest
import redis
from ansible.module_utils import vedfin_pg, vedfin_redis
from ansible.module_utils.vedfin_pg import VedfinError


class OwnError(VedfinError):
    pass


def test_pg_connect_libpq_from_keywords_and_conninfo(pg_server):
    for target in (pg_server.conninfo(), pg_server.dsn()):
        with vedfin_pg.connect_libpq(target, autocommit=True, statement_timeout_ms=1234) as conn:
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1234ms"
            assert conn.execute("SHOW application_name").fetchone()[0] == "ved-db-ops"


@pytest.mark.parametrize("as_dsn", [False, True])
def test_pg_wrong_password_is_redacted_and_the_error_class_kept(pg_server, as_dsn):
    secret = "wrong-" + pg_server.password
    target = {**pg_server.conninfo(), "password": secret}
    if as_dsn:
        target = " ".join(f"{k}={v}" for k, v in target.items())
    with pytest.raises(OwnError) as info:
        vedfin_pg.connect_libpq(target, where="the test server", error=OwnError)
    message = str(info.value)
    assert message.startswith("cannot connect to PostgreSQL at the test server: ")
    assert "password authentication failed" in message
    assert secret not in message


def test_redact_and_sql_ident():
    assert vedfin_pg.redact("a s3 b s4", "s3", None, "", "s4") == "a ******** b ********"
    assert vedfin_pg.sql_ident('User"x') == '"User""x"'
    assert vedfin_redis.redact_url("redis://app:s3cret@h:6379/0") == "redis://app:***@h:6379/0"
    assert vedfin_redis.redact_url("redis://h:6379") == "redis://h:6379"
    assert vedfin_redis.redact_url("not a url") == "***"
    assert vedfin_redis.redact_url(None) is None


@pytest.fixture
def redis_user(redis_server):
    admin = redis.Redis(host=redis_server.host, port=redis_server.port)
    admin.execute_command("ACL", "SETUSER", "conn_test", "reset", "on", ">right-password", "~*", "+ping")
    yield redis_server
    admin.execute_command("ACL", "DELUSER", "conn_test")
    admin.close()


def test_redis_connect_by_host_and_by_url(redis_user):
    where = {"host": redis_user.host, "port": redis_user.port}
    conn = vedfin_redis.connect(**where, username="conn_test", password="right-password")
    assert conn.ping()
    conn.close()
    url = f"redis://conn_test:right-password@{redis_user.host}:{redis_user.port}/0"
    conn = vedfin_redis.connect(url)
    assert conn.ping()
    conn.close()


def test_redis_refused_login_names_the_user_not_the_password(redis_user):
    where = {"host": redis_user.host, "port": redis_user.port}
    with pytest.raises(OwnError) as info:
        vedfin_redis.connect(**where, username="conn_test", password="wrong-password", error=OwnError)
    message = str(info.value)
    assert f"at {redis_user.host}:{redis_user.port} as conn_test" in message
    assert "wrong-password" not in message
    url = f"redis://conn_test:wrong-password@{redis_user.host}:{redis_user.port}/0"
    with pytest.raises(VedfinError) as info:
        vedfin_redis.connect(url)
    assert "wrong-password" not in str(info.value)
    assert "conn_test:***@" in str(info.value)


def test_malformed_targets_never_quote_the_password():
    with pytest.raises(OwnError) as info:
        vedfin_pg.connect_libpq("host=127.0.0.1 password=s3cr et", where="x", error=OwnError)
    assert str(info.value) == (
        "cannot connect to PostgreSQL at x: not a valid libpq connection string"
        " (key=value keywords or a postgresql:// URL)"
    )
    with pytest.raises(OwnError) as info:
        vedfin_redis.connect("redis://app:ab/cd@127.0.0.1:6379/0", error=OwnError)
    assert "not a valid redis:// URL" in str(info.value)
    assert "ab/cd" not in str(info.value) and "'ab'" not in str(info.value)
