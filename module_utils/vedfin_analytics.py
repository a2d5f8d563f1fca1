"""The 13 V-EdFinance analytics queries: registry, parameter validation, a runner and a
pooled service with an optional Redis cache.

Plain Python (psycopg 3, no Ansible API).  Each query has two SQL forms in ``sql/analytics/``:

* ``<name>.oracle.sql`` - plain, obviously-correct SQL over the base tables (the spec of
  ../shared/DOMAIN.md); the reference every other form is tested against;
* ``<name>.fast.sql``   - the form served in production: uses the ops-owned indexes and
  rollups of ``sql/migrations/0003_*`` and later and returns exactly the oracle's rows.
  When a query has no ``.fast.sql`` its fast form *is* the oracle (per-user lookups that an
  index already serves), see ``QuerySpec.fast_reuses_oracle``.

Both forms use psycopg named parameters (``%(name)s``) and receive every declared
parameter (defaults filled in by :func:`validate`).

Where the SQL forms are read from is a parameter of every call that reads them
(``sql_dir``); None means :data:`DEFAULT_SQL_DIR`, the repository's ``sql/analytics`` next to
this file's directory, which is right in a checkout (tests, tools/) but not inside an Ansible
module payload: a module passes the directory it copied the forms to.

Public API
----------
``AnalyticsError``                    bad input or a failed query (a ``VedfinError``).
``QUERIES``                           ``{name: QuerySpec}``, the registry.
``validate(name, params)``            normalised params dict (defaults filled) or raise.
``sql_path(name, form='fast', sql_dir=None)`` / ``sql_text(...)``  the file / SQL text of a form.
``execute(conn, name, clean, form='fast', sql_dir=None)``  raw rows of already validated params.
``run(name, params, *, form='fast', conn, sql_dir=None)``  rows as a list of JSON-safe dicts
                                      (on a non-autocommit connection that was idle, the read
                                      transaction is rolled back afterwards).
``Analytics(dsn_or_params, *, cache=None, sql_dir=None, ...)``  a small service holding a
                                      psycopg_pool.ConnectionPool, with
                                      ``.run(name, params, *, form='fast', cached=True)`` and
                                      ``.run_with_info(...)`` (rows plus the cache's info).
``CACHE_TTL_SECONDS``                 the cache TTL per query of a service built from a URL.
``to_json_safe(value)``               the value conversion used for result rows.

Result values are JSON-safe: ``Decimal`` -> ``float`` (all numeric columns are rounded to 2
decimals in SQL, or are integral counts), ``date``/``datetime`` -> ISO 8601 strings,
``jsonb`` -> dict/list as decoded by psycopg, enums -> their label (str).

Caching: an ``Analytics`` service with a cache (a ``vedfin_cache.QueryCache``, or a Redis URL
from which one is built with :data:`CACHE_TTL_SECONDS`) serves ``run(..., cached=True)``
cache-aside through ``QueryCache.get_or_compute``: key from the query name and the validated
params (leaderboard: ``ved:v1:leaderboard:{group|global}:{timeframe}:{limit}...``, see
vedfin_cache), single-flight on a miss, and a direct database query when Redis is down.  The
fast form keeps the plain key; the oracle form gets its own ``query_version``, so a benchmark
of the oracle is never served the fast form's rows.  Without a cache, or with
``cached=False``, every call queries the database.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ansible.module_utils.vedfin_pg import VedfinError, to_json_safe

try:
    import psycopg
    from psycopg.rows import dict_row
except ImportError:  # pragma: no cover - reported by the caller via missing_required_lib
    psycopg = None
    dict_row = None

# The repository's SQL forms: the default of every ``sql_dir`` parameter.
DEFAULT_SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "analytics"
FORMS = ("fast", "oracle")
TIMEFRAMES = ("all", "month", "week")
MAX_TZ_LEN = 64


class AnalyticsError(VedfinError):
    """Bad query name or parameters, or a failed query; the message is safe to show."""


@dataclass(frozen=True)
class Param:
    """One query parameter.

    ``kind``: ``int``, ``number`` (int or float), ``text``, ``date`` or ``choice``.
    ``required`` params have no default; ``nullable`` ones accept None (their default).
    """

    name: str
    kind: str
    default: object = None
    required: bool = False
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple = ()

    def describe(self) -> str:
        if self.kind == "choice":
            what = "one of " + "|".join(self.choices)
        elif self.min is not None:
            what = f"{self.kind} {self.min:g}..{self.max:g}"
        else:
            what = self.kind
        if self.required:
            return f"{self.name} ({what}, required)"
        return f"{self.name} ({what}, default {self.default!r})"


@dataclass(frozen=True)
class QuerySpec:
    name: str
    params: tuple[Param, ...]
    description: str
    freshness: str
    fast_reuses_oracle: bool = False
    check: object = field(default=None, compare=False)  # extra cross-param check

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


def _tz() -> Param:
    return Param("tz", "text", default="UTC")


def _days(default=30) -> Param:
    return Param("days", "int", default=default, min=1, max=3650)


def _limit(default) -> Param:
    return Param("limit", "int", default=default, min=1, max=1000)


def _check_dates(params: dict) -> None:
    start, end = params["start_date"], params["end_date"]
    if start > end:
        raise AnalyticsError(
            f"revenue_metrics: start_date {start.isoformat()} is after end_date {end.isoformat()}"
        )
    if (end - start).days + 1 > 3650:
        raise AnalyticsError(
            f"revenue_metrics: the date range covers {(end - start).days + 1} days; at most 3650 are allowed"
        )


# Freshness of the fast forms: every one is real time (no refresh job, nothing stale).
REALTIME = "real time (base tables)"
ROLLUP = "real time (rollup maintained by statement-level triggers on BehaviorLog)"
ENROLLMENT = "real time (ops.enrollment, maintained by statement-level triggers on UserProgress and Lesson)"
PROGRESS = "real time (ops progress rollups, statement-level triggers on UserProgress and Lesson)"
BOTH = "real time (ops rollups, statement-level triggers on BehaviorLog, UserProgress and Lesson)"

QUERIES: dict[str, QuerySpec] = {
    q.name: q
    for q in (
        QuerySpec(
            "daily_active_users",
            (_days(30), _tz()),
            "per calendar day of the last N days (newest first): dau, sessions, avg session duration",
            ROLLUP,
        ),
        QuerySpec(
            "monthly_active_users",
            (Param("months", "int", default=12, min=1, max=120), _tz()),
            "per calendar month (YYYY-MM) of the last N months (newest first): mau, sessions",
            ROLLUP,
        ),
        QuerySpec(
            "learning_funnel",
            (Param("course_id", "text", nullable=True),),
            "one row: total students, started, lesson completers, course completers",
            PROGRESS,
        ),
        QuerySpec(
            "course_completion_by_level",
            (),
            "per Level (BEGINNER..EXPERT), published courses: course count, enrollments, completers",
            PROGRESS,
        ),
        QuerySpec(
            "leaderboard",
            (
                Param("group_id", "text", nullable=True),
                Param("timeframe", "choice", default="all", choices=TIMEFRAMES),
                _limit(50),
                _tz(),
            ),
            "students ranked by points + 10 x streak + 50 x achievements in the timeframe",
            REALTIME,
        ),
        QuerySpec(
            "top_courses",
            (_limit(10),),
            "published courses by enrollments: enrollments, lesson completers, course completions",
            PROGRESS,
        ),
        QuerySpec(
            "student_behavior_summary",
            (Param("user_id", "text", required=True), _days(30), _tz()),
            "one row: events, sessions, total duration, most common event of one user",
            REALTIME,
            fast_reuses_oracle=True,
        ),
        QuerySpec(
            "cohort_retention",
            (Param("weeks", "int", default=12, min=1, max=520), _tz()),
            "per signup week (newest first): cohort size and week1..week4 retention",
            ROLLUP,
        ),
        QuerySpec(
            "at_risk_students",
            (
                Param("inactive_days", "int", default=7, min=0, max=3650),
                Param("progress_threshold", "number", default=30, min=0, max=100),
                _limit(100),
                _tz(),
            ),
            "inactive, low-progress students; never-active first",
            BOTH,
        ),
        QuerySpec(
            "student_behavior_pattern",
            (Param("user_id", "text", required=True), _days(30), _tz()),
            "one row: preferred hour, active days, sessions, difficulty, progress of one user",
            REALTIME,
            fast_reuses_oracle=True,
        ),
        QuerySpec(
            "course_engagement",
            (Param("course_id", "text", required=True),),
            "one row: enrollments, completions, rates, time spent, sessions on the course's pages",
            BOTH,
        ),
        QuerySpec(
            "revenue_metrics",
            (
                Param("start_date", "date", required=True),
                Param("end_date", "date", required=True),
                _tz(),
            ),
            "per day of first progress: new enrollments, potential revenue, active courses",
            ENROLLMENT,
            check=_check_dates,
        ),
        QuerySpec(
            "gamification_effectiveness",
            (),
            "students by points segment x streak segment: users, progress, sessions, completions",
            BOTH,
        ),
    )
}


# -- validation --------------------------------------------------------------------------
def _bad(query: str, param: Param, value, why: str) -> AnalyticsError:
    return AnalyticsError(
        f"{query}: parameter {param.name} {why} (got {value!r}); expected {param.describe()}"
    )


def _coerce(query: str, p: Param, value):
    if p.kind in ("int", "number"):
        if isinstance(value, bool):
            raise _bad(query, p, value, "must be a number, not a boolean")
        if isinstance(value, str):
            text = value.strip()
            try:
                value = int(text) if p.kind == "int" or text.lstrip("+-").isdigit() else float(text)
            except ValueError:
                raise _bad(query, p, value, "is not a valid " + p.kind) from None
        if p.kind == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise _bad(query, p, value, "must be an integer")
        else:
            if isinstance(value, Decimal):
                value = float(value)
            if (
                not isinstance(value, (int, float))
                or value != value
                or value in (float("inf"), float("-inf"))
            ):
                raise _bad(query, p, value, "must be a finite number")
        if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
            raise _bad(query, p, value, "is out of range")
        return value
    if p.kind == "choice":
        if not isinstance(value, str) or value not in p.choices:
            raise _bad(query, p, value, "is not an allowed choice")
        return value
    if p.kind == "date":
        if isinstance(value, _dt.datetime):
            raise _bad(query, p, value, "must be a date, not a datetime")
        if isinstance(value, _dt.date):
            return value
        if isinstance(value, str):
            try:
                return _dt.date.fromisoformat(value.strip())
            except ValueError:
                raise _bad(query, p, value, "is not an ISO date (YYYY-MM-DD)") from None
        raise _bad(query, p, value, "must be an ISO date string or a date")
    # text
    if not isinstance(value, str):
        raise _bad(query, p, value, "must be a string")
    if not value.strip():
        raise _bad(query, p, value, "must not be empty")
    if "\x00" in value:
        raise _bad(query, p, value, "must not contain NUL characters")
    if p.name == "tz":
        _check_tz(query, p, value)
    return value


def _check_tz(query: str, p: Param, value: str) -> None:
    """Accept IANA zone names known to Python's zoneinfo, or 'UTC'."""
    if len(value) > MAX_TZ_LEN:
        raise _bad(query, p, value, "is too long to be a time zone name")
    if value == "UTC":
        return
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(value)
    except Exception:
        raise _bad(
            query, p, value, "is not a known IANA time zone (e.g. 'UTC', 'Asia/Ho_Chi_Minh')"
        ) from None


def validate(name: str, params: dict | None = None) -> dict:
    """Check ``params`` against the registry; return them normalised with defaults filled.

    Raises AnalyticsError naming the problem: unknown query (lists the allowed names),
    unknown parameter (lists the allowed ones), missing required, wrong type, out of range,
    reversed date range.
    """
    spec = QUERIES.get(name) if isinstance(name, str) else None
    if spec is None:
        raise AnalyticsError(
            "unknown analytics query {!r}; allowed: {}".format(name, ", ".join(sorted(QUERIES)))
        )
    params = dict(params or {})
    if not all(isinstance(k, str) for k in params):
        raise AnalyticsError(f"{name}: parameter names must be strings")
    allowed = [p.name for p in spec.params]
    unknown = sorted(k for k in params if k not in allowed)
    if unknown:
        raise AnalyticsError(
            "{}: unknown parameter{} {}; allowed: {}".format(
                name, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(allowed) or "(none)"
            )
        )
    out = {}
    for p in spec.params:
        value = params.get(p.name)
        if value is None:
            if p.required:
                raise AnalyticsError(f"{name}: parameter {p.name} is required; expected {p.describe()}")
            out[p.name] = p.default
            continue
        out[p.name] = _coerce(name, p, value)
    if spec.check is not None:
        spec.check(out)
    return out


# -- SQL and running ---------------------------------------------------------------------
_SQL_CACHE: dict[Path, str] = {}


def sql_path(name: str, form: str = "fast", sql_dir=None) -> Path:
    """The file of a form in ``sql_dir`` (default :data:`DEFAULT_SQL_DIR`); the fast form of a
    query that reuses its oracle is the oracle's file."""
    if name not in QUERIES:
        raise AnalyticsError(
            "unknown analytics query {!r}; allowed: {}".format(name, ", ".join(sorted(QUERIES)))
        )
    if form not in FORMS:
        raise AnalyticsError("unknown form {!r}; allowed: {}".format(form, ", ".join(FORMS)))
    if form == "fast" and QUERIES[name].fast_reuses_oracle:
        form = "oracle"
    return Path(sql_dir or DEFAULT_SQL_DIR) / f"{name}.{form}.sql"


def sql_text(name: str, form: str = "fast", sql_dir=None) -> str:
    """The SQL text of a form from ``sql_dir`` (read once per file and process)."""
    path = sql_path(name, form, sql_dir)
    if path not in _SQL_CACHE:
        try:
            _SQL_CACHE[path] = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AnalyticsError(f"cannot read {path}: {exc.strerror}") from None
    return _SQL_CACHE[path]


def execute(conn, name: str, params: dict, form: str = "fast", sql_dir=None) -> list[dict]:
    """Run an already validated query on ``conn`` (its SQL from ``sql_dir``); raw psycopg
    values (Decimal, date, ...)."""
    text = sql_text(name, form, sql_dir)
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(text, params)
            return cur.fetchall()
    except psycopg.Error as exc:
        diag = getattr(exc, "diag", None)
        msg = (getattr(diag, "message_primary", None) if diag else None) or " ".join(str(exc).split())
        raise AnalyticsError(f"{name} ({form}) failed: {msg}") from None


def run(name: str, params: dict | None = None, *, form: str = "fast", conn, sql_dir=None) -> list[dict]:
    """Validate, run on the psycopg 3 connection ``conn`` (SQL from ``sql_dir``), return
    JSON-safe row dicts."""
    clean = validate(name, params)
    if form not in FORMS:
        raise AnalyticsError("unknown form {!r}; allowed: {}".format(form, ", ".join(FORMS)))
    was_idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    try:
        rows = execute(conn, name, clean, form, sql_dir)
    finally:
        # Read-only work: end the transaction we opened (never one the caller had open).
        if (
            was_idle
            and not conn.autocommit
            and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        ):
            conn.rollback()
    return [{k: to_json_safe(v) for k, v in row.items()} for row in rows]


# Cache TTL per query, seconds. The leaderboard's 5 minutes is the application's; the
# others follow how fast their answer can move: whole-day/week/month series change slowly,
# per-user lookups are cheap and should look live.
CACHE_TTL_SECONDS = {
    "daily_active_users": 600,
    "monthly_active_users": 1800,
    "learning_funnel": 300,
    "course_completion_by_level": 600,
    "leaderboard": 300,
    "top_courses": 600,
    "student_behavior_summary": 60,
    "cohort_retention": 1800,
    "at_risk_students": 600,
    "student_behavior_pattern": 60,
    "course_engagement": 300,
    "revenue_metrics": 600,
    "gamification_effectiveness": 600,
}


class Analytics:
    """A query service over a psycopg_pool.ConnectionPool, with an optional Redis cache.

    ``target`` is a libpq DSN string or a dict of libpq keywords (host, port, user,
    password, dbname), e.g. the ``pg_db`` test fixture.  ``cache`` is a
    :class:`vedfin_cache.QueryCache`, a Redis URL (``redis://app:secret@127.0.0.1:6379/0``:
    a QueryCache with :data:`CACHE_TTL_SECONDS` is built from it) or None (no cache).
    ``sql_dir``: where the SQL forms are read (default :data:`DEFAULT_SQL_DIR`).
    Use as a context manager or call :meth:`close` (closes the pool and the cache).
    """

    def __init__(self, target, *, cache=None, min_size: int = 1, max_size: int = 4,
                 timeout: float = 30.0, application_name: str = "ved-db-ops analytics",
                 sql_dir=None):  # fmt: skip
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover
            raise AnalyticsError("the Python library psycopg_pool is required but not installed") from None
        if isinstance(target, dict):
            conninfo, kwargs = "", dict(target)
        else:
            conninfo, kwargs = str(target), {}
        kwargs.setdefault("application_name", application_name)
        kwargs["autocommit"] = True
        if isinstance(cache, str):
            from ansible.module_utils.vedfin_cache import QueryCache  # only a cached service needs redis-py

            cache = QueryCache(cache, ttl_by_query=CACHE_TTL_SECONDS)
        self.cache = cache
        self.sql_dir = sql_dir
        self.pool = ConnectionPool(conninfo, kwargs=kwargs, min_size=min_size, max_size=max_size,
                                   timeout=timeout, open=True)  # fmt: skip

    def close(self) -> None:
        self.pool.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _query(self, name: str, clean: dict, form: str) -> list[dict]:
        with self.pool.connection() as conn:
            rows = execute(conn, name, clean, form, self.sql_dir)
        return [{k: to_json_safe(v) for k, v in row.items()} for row in rows]

    def run_with_info(
        self, name: str, params: dict | None = None, *, form: str = "fast", cached: bool = True
    ) -> tuple[list[dict], dict]:
        """Like :meth:`run`, plus the cache's info (status hit/miss/degraded/uncached, key, ms)."""
        clean = validate(name, params)
        if form not in FORMS:
            raise AnalyticsError("unknown form {!r}; allowed: {}".format(form, ", ".join(FORMS)))
        if self.cache is None or not cached:
            return self._query(name, clean, form), {"status": "uncached"}
        # The served form keeps the plain key; the oracle gets its own (answers are equal,
        # but a benchmark of the oracle must never be served the fast form's cached rows).
        return self.cache.get_or_compute(
            name,
            to_json_safe(clean),
            lambda: self._query(name, clean, form),
            query_version=1 if form == "fast" else form,
        )

    def run(
        self, name: str, params: dict | None = None, *, form: str = "fast", cached: bool = True
    ) -> list[dict]:
        """Validate and run a query; served from the cache when there is one and ``cached``."""
        return self.run_with_info(name, params, form=form, cached=cached)[0]


__all__ = [
    "CACHE_TTL_SECONDS",
    "DEFAULT_SQL_DIR",
    "FORMS",
    "QUERIES",
    "Analytics",
    "AnalyticsError",
    "Param",
    "QuerySpec",
    "execute",
    "run",
    "sql_path",
    "sql_text",
    "to_json_safe",
    "validate",
]
