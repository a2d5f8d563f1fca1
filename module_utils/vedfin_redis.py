"""Shared Redis connection helpers for the ved-db-ops modules (the Redis side of vedfin_pg).

Plain Python (no Ansible API); redis-py is imported only when a client is made, so modules
that never touch Redis do not need it.

Public API
----------
``client(url=None, *, host, port, unix_socket, username, password, timeout, **redis_kwargs)``
        a redis-py client from a ``redis://`` URL or from host/port (or a Unix socket); no I/O.
``connect(...)``  the same client, pinged: a wrong password or an unreachable server raises
        ``error`` (VedfinError by default) naming where and as whom, never the password.
``redact_url(url)``  ``redis://user:secret@host:port/db`` -> ``redis://user:***@host:port/db``.
"""

from __future__ import annotations

from ansible.module_utils.vedfin_pg import VedfinError, redact


def redact_url(url: str | None) -> str | None:
    """``redis://user:secret@host:port/db`` -> ``redis://user:***@host:port/db``."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    creds, at, hostpart = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user + ':' if user else ''}***@{hostpart}"


def _redis(error: type[Exception]):
    try:
        import redis
    except ImportError:
        raise error("the Python library redis (redis-py) is required for Redis") from None
    return redis


def client(
    url: str | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    unix_socket: str | None = None,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 5,
    error: type[Exception] = VedfinError,
    **redis_kwargs,
):
    """A redis-py client (no connection is made yet): from ``url`` when given, else from
    ``unix_socket`` or ``host``/``port`` (127.0.0.1:6379 by default)."""
    redis = _redis(error)
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, **redis_kwargs}
    if url:
        return redis.Redis.from_url(url, **options)
    if unix_socket:
        options["unix_socket_path"] = unix_socket
    else:
        options.update(host=host or "127.0.0.1", port=int(port or 6379))
    if username:
        options["username"] = username
    if password:
        options["password"] = password
    return redis.Redis(**options)


def describe(url: str | None = None, *, host=None, port=None, unix_socket=None, username=None, **_) -> str:
    """``host:port as user`` (or the socket, or the redacted URL) for messages."""
    if url:
        return redact_url(url) or ""
    where = unix_socket or f"{host or '127.0.0.1'}:{int(port or 6379)}"
    return f"{where} as {username or 'default'}"


def _url_password(url: str | None) -> str | None:
    creds = (url or "").partition("://")[2].rpartition("@")[0]
    return creds.partition(":")[2] or None


def connect(url: str | None = None, *, error: type[Exception] = VedfinError, **options):
    """:func:`client`, then PING: raises ``error`` "cannot connect to Redis at <where>: <reason>"
    (passwords redacted, the URL's too) when the URL is malformed, the server does not answer
    or it refuses the login."""
    redis = _redis(error)
    secrets = (options.get("password"), _url_password(url))
    conn = None
    try:
        conn = client(url, error=error, **options)
        conn.ping()
    except ValueError:
        # redis-py's URL parser quotes pieces of the URL, password fragments included.
        reason = "not a valid redis:// URL (percent-encode / : @ # ? % in the password)"
        raise error(f"cannot connect to Redis at {describe(url, **options)}: {reason}") from None
    except redis.RedisError as exc:
        if conn is not None:
            conn.close()
        reason = redact(" ".join(str(exc).split()) or type(exc).__name__, *secrets)
        raise error(f"cannot connect to Redis at {describe(url, **options)}: {reason}") from None
    return conn
