"""Throwaway PostgreSQL 15 and Redis servers for tests, from Debian's packages.

Each server gets a temp data dir and a free loopback port, and is torn down by the caller
(see conftest.py). No mocks: tests talk to real servers.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("VED_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = os.environ.get("VED_REDIS_SERVER", "/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb/postgres refuse to run as root: drop to the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PgServer:
    port: int
    datadir: Path
    password: str
    host: str = "127.0.0.1"
    user: str = "postgres"
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.datadir.parent / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} password={self.password} dbname={dbname}"

    def conninfo(self, dbname: str = "postgres") -> dict:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": dbname,
        }

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        cmd = _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), *args])
        return subprocess.run(cmd, check=True, capture_output=True, text=True)

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode, "-w")

    def start(self) -> None:
        self.pg_ctl("start", "-w", "-t", "60", "-l", str(self.log))


def start_postgres(settings: dict[str, str] | None = None) -> PgServer:
    """initdb into a temp dir (data checksums, scram) and start on a free loopback port."""
    base = Path(tempfile.mkdtemp(prefix="ved-pg-"))
    datadir = base / "data"
    password = secrets.token_urlsafe(16)
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        os.chown(pwfile, pg.pw_uid, pg.pw_gid)
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "--data-checksums",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                # Byte-order collation: same order as glibc's C.UTF-8 (code points) but lets
                # PostgreSQL sort text with memcmp + abbreviated keys (fast text-UUID indexes).
                "--lc-collate",
                "C",
            ]
        ),
        check=True,
        capture_output=True,
    )
    pwfile.unlink()
    server = PgServer(port=free_port(), datadir=datadir, password=password)
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(server.port),
        "unix_socket_directories": f"'{base}'",
        "fsync": "off",  # throwaway test data: durability buys nothing here
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_preload_libraries": "'pg_stat_statements'",
        "max_connections": "100",
    }
    conf.update(settings or {})
    with open(datadir / "postgresql.auto.conf", "a") as fh:
        for key, value in conf.items():
            fh.write(f"{key} = {value}\n")
    server.start()
    return server


def destroy_postgres(server: PgServer) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        server.stop("immediate")
    shutil.rmtree(server.datadir.parent, ignore_errors=True)


def start_replica(primary: PgServer, slot: str = "ved_test_replica") -> PgServer:
    """A streaming hot standby of ``primary`` on its own free loopback port.

    ``pg_basebackup -R`` over the primary's default ``host replication all 127.0.0.1/32`` hba
    line (initdb writes it) with a physical slot ``slot``; same superuser and password.  Stop it
    with :func:`destroy_replica`, which also drops the slot so the primary keeps no WAL for it.
    """
    base = Path(tempfile.mkdtemp(prefix="ved-pg-replica-"))
    datadir = base / "data"
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(base, pg.pw_uid, pg.pw_gid)
    primary_conninfo = (
        f"host={primary.host} port={primary.port} user={primary.user} "
        f"password={primary.password} application_name={slot}"
    )
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "pg_basebackup"),
                "--pgdata",
                str(datadir),
                "--dbname",
                primary_conninfo,
                "--write-recovery-conf",
                "--create-slot",
                "--slot",
                slot,
                "--wal-method",
                "stream",
                "--checkpoint",
                "fast",
            ]
        ),
        check=True,
        capture_output=True,
    )
    replica = PgServer(port=free_port(), datadir=datadir, password=primary.password)
    # The copied postgresql.auto.conf carries the primary's port and socket dir: later lines win.
    with open(datadir / "postgresql.auto.conf", "a") as fh:
        fh.write(f"port = {replica.port}\n")
        fh.write(f"unix_socket_directories = '{base}'\n")
        fh.write(f"primary_conninfo = '{primary_conninfo}'\n")
        fh.write("hot_standby_feedback = on\n")
    replica.start()
    return replica


def wait_for_replay(primary: PgServer, replica: PgServer, timeout: float = 60.0) -> None:
    """Block until ``replica`` has replayed everything ``primary`` had written when called."""
    with psycopg.connect(primary.dsn(), autocommit=True) as conn:
        # the insert position: with synchronous_commit = off the last commit may not be written yet
        target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica.dsn(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            done = conn.execute(
                "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0", [target]
            ).fetchone()[0]
            if done:
                return
            time.sleep(0.05)
    raise RuntimeError(f"replica on port {replica.port} did not replay up to {target} in {timeout} s")


def destroy_replica(primary: PgServer, replica: PgServer, slot: str = "ved_test_replica") -> None:
    destroy_postgres(replica)
    deadline = time.monotonic() + 15
    with psycopg.connect(primary.dsn(), autocommit=True) as conn:
        while time.monotonic() < deadline:  # the walsender may take a moment to release the slot
            try:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name = %s",
                    [slot],
                )
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(0.1)


@dataclass
class RedisServer:
    port: int
    workdir: Path
    proc: subprocess.Popen | None = None
    host: str = "127.0.0.1"
    # Extra redis-server options, e.g. {"maxmemory": "2mb"} (see start_redis).
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                str(self.workdir / "redis.log"),
                *[arg for key, value in self.settings.items() for arg in (f"--{key}", str(value))],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


def start_redis(settings: dict[str, str] | None = None) -> RedisServer:
    """Start redis-server; ``settings`` adds options (``{"maxmemory": "2mb"}``) to the defaults."""
    server = RedisServer(
        port=free_port(), workdir=Path(tempfile.mkdtemp(prefix="ved-redis-")), settings=dict(settings or {})
    )
    server.start()
    return server


def destroy_redis(server: RedisServer) -> None:
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)
