"""Replica mode of the benchmark: the reads go to a hot standby (``read_dsn``) while the primary
gets a bounded write load into a scratch table (:class:`WriteLoad`) and a sampler records the
replication lag (:class:`LagSampler`, :func:`lag_summary`); :class:`Replication` runs both
around the measured part of the run and always drops the table."""

from __future__ import annotations

import contextlib
import math
import threading
import time

from ansible.module_utils.vedfin_bench.common import THREAD_STOP_S, BenchError, connect, scalar
from ansible.module_utils.vedfin_bench.stats import distribution, rounded
from ansible.module_utils.vedfin_pg import HAS_PSYCOPG

try:
    import psycopg
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    psycopg = None

# The primary's scratch table (a logged table, so it makes WAL), commits per second of the
# write load, and the most points kept in ``replication.series`` (the stats use every sample).
WRITE_LOAD_TABLE = "ops.bench_write_load"
WRITE_LOAD_COMMITS_PER_S = 10
LAG_SERIES_MAX = 2000
LAG_SQL = (
    "SELECT count(r.pid), "
    "max(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)), "
    "max(COALESCE(EXTRACT(epoch FROM r.replay_lag), 0)), "
    "(SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)) "
    " FROM pg_replication_slots s WHERE s.slot_type = 'physical') "
    "FROM pg_stat_replication r WHERE r.state IS DISTINCT FROM 'backup'"
)


# -- targets -----------------------------------------------------------------------------------
def parse_dsn(dsn: str, option: str = "read_dsn", defaults: dict | None = None) -> dict:
    """libpq keywords (``host=... port=...``) or URL (``postgresql://...``) -> dict of keywords,
    on top of ``defaults`` (the module passes its own ``dbname`` and ``connect_timeout``).

    A dict is what every connection of the run takes (a URL cannot get ``options`` appended);
    the parser's own message may quote the string, password included, so it is not shown."""
    if not HAS_PSYCOPG:
        raise BenchError("the Python library psycopg (version 3) is required but not installed")
    try:
        out = psycopg.conninfo.conninfo_to_dict(str(dsn))
    except psycopg.Error:
        raise BenchError(
            f"{option} is not a valid libpq connection string (keywords or postgresql:// URL)"
        ) from None
    return {**(defaults or {}), **{k: v for k, v in out.items() if v is not None}}


def describe_conn(conn, in_recovery) -> dict:
    """host (or socket directory), port, dbname of an open connection: never the password."""
    info = conn.info
    return {"host": info.host, "port": int(info.port), "dbname": info.dbname, "in_recovery": in_recovery}


def connect_read(read_target, application_name: str, statement_timeout_ms=None):
    """:func:`connect` to the standby; its errors start with ``read_dsn: ``."""
    try:
        return connect(read_target, application_name, statement_timeout_ms)
    except BenchError as exc:
        raise BenchError(f"read_dsn: {exc}") from None


def check_roles(primary_conn, read_conn) -> dict:
    """Replica mode needs the module's connection on a primary and ``read_dsn`` on a hot
    standby; raises BenchError naming the one that is not.  Returns the read target."""
    if scalar(primary_conn, "SELECT pg_is_in_recovery()"):
        where = describe_conn(primary_conn, True)
        raise BenchError(
            f"the module's connection ({where['host']}:{where['port']}) is a standby (in recovery); "
            "with read_dsn set it must reach the primary, which takes the write load"
        )
    target = describe_conn(read_conn, bool(scalar(read_conn, "SELECT pg_is_in_recovery()")))
    if not target["in_recovery"]:
        raise BenchError(
            f"read_dsn ({target['host']}:{target['port']}/{target['dbname']}) is not a hot standby: "
            "pg_is_in_recovery() is false there; point it at a streaming replica"
        )
    return target


# -- the two threads on the primary ------------------------------------------------------------
class WriteLoad:
    """Background thread inserting ``rate`` rows/s into :data:`WRITE_LOAD_TABLE` on the primary,
    in :data:`WRITE_LOAD_COMMITS_PER_S` commits per second (autocommit, ~200-byte payload).

    Rows due are computed from the elapsed time, so a slow commit is caught up (at most one
    second of rows per batch).  An error stops the thread and is reported, not raised."""

    INSERT = (
        f"INSERT INTO {WRITE_LOAD_TABLE} (payload) "
        "SELECT repeat(md5(random()::text || g::text), 6) FROM generate_series(1, %s) AS g"
    )

    def __init__(self, target, rate: int):
        self.rate = int(rate)
        self.rows = 0
        self.error = None
        self._conn = connect(target, "ved-db-ops bench write load", int(THREAD_STOP_S * 1000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-write-load", daemon=True)
        self._t0 = self._t1 = None

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        tick = 1.0 / WRITE_LOAD_COMMITS_PER_S
        try:
            while not self._stop.is_set():
                due = min(int(self.rate * (time.monotonic() - self._t0)) - self.rows, self.rate)
                if due > 0:
                    self._conn.execute(self.INSERT, [due])
                    self.rows += due
                self._stop.wait(tick)
        except Exception as exc:  # noqa: BLE001 - reported in the result
            self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]

    def stop(self) -> dict:
        """Stop (bounded join; idempotent) and return the ``write_load`` result."""
        if self._t1 is None:
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(THREAD_STOP_S)
            self._t1 = time.monotonic()
            with contextlib.suppress(Exception):
                self._conn.close()
        seconds = (self._t1 - self._t0) if self._t0 is not None else 0.0
        return {
            "table": WRITE_LOAD_TABLE,
            "rate_target": self.rate,
            "rows": self.rows,
            "seconds": round(seconds, 3),
            "rows_per_s": round(self.rows / seconds, 1) if seconds > 0 else None,
            "error": self.error,
        }


def _num(value):
    return None if value is None else float(value)


class LagSampler:
    """Background thread sampling :data:`LAG_SQL` on the primary every ``interval`` seconds:
    per sample (seconds since start, max lag bytes, max lag seconds over the standbys, number
    of standbys, max WAL retained by a physical slot)."""

    def __init__(self, target, interval: float):
        self.interval = float(interval)
        self.samples: list[tuple] = []
        self.error = None
        self._conn = connect(target, "ved-db-ops bench lag sampler", int(THREAD_STOP_S * 1000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-lag-sampler", daemon=True)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        try:
            while True:
                n, lag_b, lag_s, slot_b = self._conn.execute(LAG_SQL).fetchone()
                t = time.monotonic() - t0
                self.samples.append((t, _num(lag_b), _num(lag_s), int(n), _num(slot_b)))
                # next tick on the fixed grid, so a slow query does not stretch the interval
                if self._stop.wait(self.interval - (time.monotonic() - t0) % self.interval):
                    return
        except Exception as exc:  # noqa: BLE001 - reported in the result
            self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]

    def stop(self) -> dict:
        """Stop (bounded join; idempotent) and return the ``lag`` result with its ``series``."""
        if not self._stopped:
            self._stopped = True
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(THREAD_STOP_S)
            with contextlib.suppress(Exception):
                self._conn.close()
        out = lag_summary(self.samples)
        out["interval_s"] = self.interval
        out["error"] = self.error
        return out


def lag_summary(samples, max_points: int = LAG_SERIES_MAX) -> dict:
    """Lag statistics of :class:`LagSampler` samples ``(t, bytes, seconds, standbys, slot_bytes)``.

    ``bytes``/``seconds``: p50/p95/max over the samples that saw a standby; ``standbys``: the
    most seen at once; ``series``: ``[t, bytes, seconds]``, thinned to at most ``max_points``
    evenly spaced samples (the stats use all of them)."""
    step = max(1, math.ceil(len(samples) / max_points))
    slots = [s[4] for s in samples if s[4] is not None]
    return {
        "samples": len(samples),
        "standbys": max((s[3] for s in samples), default=0),
        "bytes": distribution(s[1] for s in samples),
        "seconds": distribution(s[2] for s in samples),
        "slot_retained_bytes_max": rounded(max(slots), 0) if slots else None,
        "series": [[rounded(t), rounded(b, 0), rounded(sec)] for t, b, sec, _n, _slot in samples[::step]],
    }


# -- the whole of it ---------------------------------------------------------------------------
class Replication:
    """Replica mode's work on the primary: :meth:`start` creates :data:`WRITE_LOAD_TABLE` on
    ``primary_conn`` and starts the :class:`LagSampler` and (``write_load_rate`` > 0) the
    :class:`WriteLoad`, each on its own connection to ``target``; :meth:`result` stops them and
    builds the ``replication`` result; :meth:`close` (always, also after a failure) stops them
    and drops the table, best effort."""

    def __init__(self, primary_conn, target, write_load_rate: int, lag_sample_interval: float):
        self._primary = primary_conn
        self._target = target
        self._rate = int(write_load_rate)
        self._interval = lag_sample_interval
        self._table = False
        self.sampler: LagSampler | None = None
        self.load: WriteLoad | None = None

    def start(self) -> None:
        self._primary.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITE_LOAD_TABLE} ("
            "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "created_at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"
        )
        self._table = True
        self.sampler = LagSampler(self._target, self._interval)
        self.load = WriteLoad(self._target, self._rate) if self._rate > 0 else None
        self.sampler.start()
        if self.load is not None:
            self.load.start()

    def result(self, read_target: dict) -> dict:
        """Stop both threads (bounded) and return ``{read_target, write_load, lag, series}``."""
        write = (
            self.load.stop()
            if self.load is not None
            else {
                "table": WRITE_LOAD_TABLE,
                "rate_target": 0,
                "rows": 0,
                "seconds": 0.0,
                "rows_per_s": None,
                "error": None,
            }
        )
        lag = self.sampler.stop()
        series = lag.pop("series")
        return {"read_target": read_target, "write_load": write, "lag": lag, "series": series}

    def close(self) -> None:
        for worker in (self.load, self.sampler):  # stopped already unless the run failed
            if worker is not None:
                with contextlib.suppress(Exception):
                    worker.stop()
        if self._table:
            with contextlib.suppress(Exception):
                self._primary.execute(f"DROP TABLE IF EXISTS {WRITE_LOAD_TABLE}")
