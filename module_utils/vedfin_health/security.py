"""Section ``security``: the PostgreSQL security baseline, one function per check.

After dev-sec postgres-baseline (postgres-04..15) and CIS PostgreSQL 15 (3.1 logging, 4 roles,
5 authentication, 6.7/6.8 TLS); docs/DATABASE_TROUBLESHOOTING.md#postgresql-security-baseline.
Each ``sec_*`` function is pure: rows in, (status, value, note, details) out; the registered
``pg_sec_*`` check functions feed them from a superuser connection (``SecurityContext``), and
the per-database ones connect to every database that allows connections. A check that raises
is ``warn`` with the error in its note (and a hint when a superuser is needed).
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import stat

from ansible.module_utils.vedfin_health.postgresql import require_sql, rows
from ansible.module_utils.vedfin_health.registry import CHECKS, HealthError, Outcome, section
from ansible.module_utils.vedfin_health.settings import normalize_setting
from ansible.module_utils.vedfin_health.status import evaluate, oneline, worst
from ansible.module_utils.vedfin_pg import VedfinError, connect

check = section("security")

# The queries of this section (sql/health/<name>.sql).
SECURITY_SQL = (
    "security_settings",
    "security_hba",
    "security_roles",
    "security_databases",
    "security_database",
)
DEFAULT_SUPERUSERS = ("postgres",)
# Libraries this project preloads or would: statistics, plan logging, audit, cache warm-up.
DEFAULT_PRELOAD_LIBRARIES = ("pg_stat_statements", "auto_explain", "pgaudit", "pg_prewarm")
PASSWORD_METHODS = ("scram-sha-256", "md5", "password", "ldap", "radius", "pam")
TLS_ORDER = ("tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3")


def _finding(status: str, what: str, **extra) -> dict:
    return {"status": status, "finding": what, **extra}


def _graded(findings: list[dict], ok_note: str):
    """(status, value, note, details) of a list of findings: the worst status, their count, the
    first three as the note."""
    if not findings:
        return "ok", 0, ok_note, []
    top = worst(f["status"] for f in findings)
    note = "; ".join(f["finding"] for f in findings[:3]) + (
        f" (+{len(findings) - 3} more)" if len(findings) > 3 else ""
    )
    return top, len(findings), note, findings


def _csv(text) -> list[str]:
    return [x.strip().strip('"') for x in str(text or "").split(",") if x.strip()]


def _network(address, netmask=None):
    """ipaddress network of a pg_hba address/netmask, or None for names and keywords."""
    if not address:
        return None
    try:
        if netmask and "/" not in address:
            prefix = bin(int(ipaddress.ip_address(netmask))).count("1")
            return ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        return ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None


def listens_beyond_loopback(listen_addresses) -> bool:
    """True when listen_addresses holds anything but loopback (or is a wildcard)."""
    for addr in _csv(listen_addresses):
        if addr == "localhost":
            continue
        try:
            if ipaddress.ip_address(addr).is_loopback:
                continue
        except ValueError:
            pass  # '*', host names: reachable from outside
        return True
    return False


def sec_hba(rules: list[dict], listen_addresses="localhost"):
    """pg_hba_file_rules rows -> (status, value, note, details). crit: trust anywhere,
    password on a host/hostnossl line, ident over TCP. warn: password on the socket or
    hostssl, md5, password-based host/hostnossl lines from beyond loopback (not TLS-only),
    world-open addresses when the server listens beyond loopback, lines that would not load."""
    exposed = listens_beyond_loopback(listen_addresses)
    findings = []
    for r in rules:
        line, kind, method = r.get("line_number"), r.get("type") or "", (r.get("auth_method") or "").lower()
        where = (
            f"line {line} ({kind} {','.join(r.get('database') or [])} {','.join(r.get('user_name') or [])}"
        )
        where += f" {r.get('address')})" if r.get("address") else ")"
        if r.get("error"):
            findings.append(_finding("warn", f"{where}: does not load: {r['error']}", line=line))
            continue
        network = kind.startswith("host")
        net = _network(r.get("address"), r.get("netmask"))
        loopback = net is not None and net.network_address.is_loopback and net.broadcast_address.is_loopback
        if r.get("address") in ("samehost",):
            loopback = True
        if method == "trust":
            findings.append(_finding("crit", f"{where}: trust lets anyone in without a password", line=line))
        elif method == "password":
            status = "warn" if kind in ("local", "hostssl") else "crit"
            findings.append(
                _finding(status, f"{where}: password sends the password in clear text", line=line)
            )
        elif method == "md5":
            findings.append(_finding("warn", f"{where}: md5 (use scram-sha-256)", line=line))
        elif method == "ident" and network:
            findings.append(
                _finding("crit", f"{where}: ident over TCP trusts the client's identd", line=line)
            )
        if not network or loopback:
            continue
        if kind in ("host", "hostnossl") and method in PASSWORD_METHODS:
            findings.append(_finding("warn", f"{where}: not TLS-only (use hostssl)", line=line))
        open_v4 = net is not None and net.version == 4 and net.prefixlen < 8
        open_v6 = net is not None and net.version == 6 and net.prefixlen < 16
        if exposed and method != "reject" and (r.get("address") == "all" or open_v4 or open_v6):
            findings.append(
                _finding(
                    "warn", f"{where}: open to the whole Internet (postgresql_allow_world_open?)", line=line
                )
            )
    return _graded(findings, f"{len(rules)} rule(s), none weak")


def sec_password_encryption(setting):
    value = str(setting or "").lower()
    if value == "scram-sha-256":
        return "ok", value, "", []
    return "crit", value, "new passwords are stored as MD5 hashes (a password equivalent)", []


def sec_md5_passwords(roles: list[dict]):
    """Roles whose stored secret is an MD5 hash. They cannot log in on scram-sha-256 hba lines
    and the hash itself is enough to log in on md5 lines."""
    findings = [
        _finding("warn", f"{r['rolname']} has an MD5 hash", role=r["rolname"])
        for r in roles
        if r.get("md5_password")
    ]
    status, value, note, details = _graded(findings, "no MD5 hash stored")
    no_pw = [r["rolname"] for r in roles if r.get("rolcanlogin") and r.get("no_password")]
    if no_pw:
        note += f"; login role(s) without a password (peer/cert only): {', '.join(no_pw)}"
    return status, value, note, details


def sec_superusers(roles: list[dict], allowed=DEFAULT_SUPERUSERS):
    """Superusers outside ``allowed`` and superuser-equivalents (members of
    pg_execute_server_program / pg_read_server_files / pg_write_server_files) are crit;
    CREATEROLE (can grant itself those roles before PostgreSQL 16) and BYPASSRLS are warn."""
    allowed = set(allowed or ())
    findings = []
    for r in roles:
        name = r["rolname"]
        if name in allowed:
            continue
        if r.get("rolsuper"):
            findings.append(_finding("crit", f"{name} is SUPERUSER", role=name))
            continue
        if r.get("server_file_roles"):
            roles_ = ", ".join(r["server_file_roles"])
            findings.append(
                _finding("crit", f"{name} is a member of {roles_} (superuser-equivalent)", role=name)
            )
        if r.get("rolcreaterole"):
            findings.append(_finding("warn", f"{name} has CREATEROLE", role=name))
        if r.get("rolbypassrls"):
            findings.append(_finding("warn", f"{name} has BYPASSRLS", role=name))
    return _graded(
        findings, f"superusers: {', '.join(sorted(r['rolname'] for r in roles if r.get('rolsuper'))) or '-'}"
    )


def file_facts(paths: dict[str, str]) -> dict[str, dict]:
    """{label: path} -> {label: {path, mode, owner, is_dir} or {path, error}} (os.stat on the
    host the module runs on); labels without a path are left out."""
    out = {}
    for label, path in paths.items():
        if not path:
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            out[label] = {"path": path, "error": exc.strerror or str(exc)}
            continue
        try:
            owner = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = str(st.st_uid)
        out[label] = {
            "path": path,
            "mode": f"{stat.S_IMODE(st.st_mode):04o}",
            "owner": owner,
            "is_dir": stat.S_ISDIR(st.st_mode),
        }
    return out


def sec_file_modes(facts: dict[str, dict], os_user: str = "postgres"):
    """The data directory must be 0700 (or 0750 with group access) and owned by ``os_user``;
    config files owned by ``os_user`` or root, never group/other writable; pg_hba.conf and
    pg_ident.conf not world-readable. A path the module cannot stat is warn."""
    findings = []
    for label, f in facts.items():
        if "error" in f:
            findings.append(
                _finding("warn", f"{label} {f['path']}: cannot stat ({f['error']}); run on the database host")
            )
            continue
        mode = int(f["mode"], 8)
        if label == "data_directory":
            if f["owner"] != os_user:
                findings.append(_finding("crit", f"data directory owned by {f['owner']}, not {os_user}"))
            if mode not in (0o700, 0o750):
                findings.append(_finding("crit", f"data directory mode {f['mode']} (want 0700 or 0750)"))
            continue
        if f["owner"] not in (os_user, "root"):
            findings.append(_finding("crit", f"{label} {f['path']} owned by {f['owner']}"))
        if mode & 0o022:
            findings.append(
                _finding("crit", f"{label} {f['path']} mode {f['mode']}: writable by group/other")
            )
        elif label in ("hba_file", "ident_file") and mode & 0o004:
            findings.append(_finding("warn", f"{label} {f['path']} mode {f['mode']}: world-readable"))
    return _graded(findings, ", ".join(f"{k} {v.get('mode', '?')}" for k, v in facts.items()))


def sec_ssl(settings: dict):
    """ssl off is crit when the server listens beyond loopback (warn on a socket/loopback-only
    server); a protocol floor below TLSv1.2 is crit."""
    ssl = normalize_setting(settings.get("ssl", "off"), vartype="bool")
    floor = str(settings.get("ssl_min_protocol_version") or "").lower()
    value = f"ssl {ssl}, min {settings.get('ssl_min_protocol_version') or '-'}"
    if ssl != "on":
        if listens_beyond_loopback(settings.get("listen_addresses")):
            return "crit", value, "ssl is off and the server listens beyond loopback", []
        return "warn", value, "ssl is off (the server listens on loopback/socket only)", []
    if floor not in TLS_ORDER or TLS_ORDER.index(floor) < TLS_ORDER.index("tlsv1.2"):
        return "crit", value, "ssl_min_protocol_version below TLSv1.2", []
    return "ok", value, "", []


def sec_logging(settings: dict):
    """log_connections, log_disconnections on; log_line_prefix with user (%u), database (%d)
    and a time stamp (%t, %m or %n). Each gap is warn."""
    findings = []
    for name in ("log_connections", "log_disconnections"):
        if normalize_setting(settings.get(name, "off"), vartype="bool") != "on":
            findings.append(_finding("warn", f"{name} is off"))
    prefix = str(settings.get("log_line_prefix") or "")
    for want, escapes in (("user", ("%u",)), ("database", ("%d",)), ("time", ("%t", "%m", "%n"))):
        if not any(e in prefix for e in escapes):
            findings.append(
                _finding("warn", f"log_line_prefix {prefix!r} has no {want} ({'/'.join(escapes)})")
            )
    status, value, note, details = _graded(findings, "connections logged with user, database and time")
    extra = {k: settings.get(k) for k in ("log_min_duration_statement", "log_statement") if k in settings}
    return status, value, note, {"findings": details, **extra}


def _unvisited(per_db: list[dict]) -> list[dict]:
    return [
        _finding("warn", f"{d['database']}: not checked ({d['error']})", database=d["database"])
        for d in per_db
        if d.get("error")
    ]


def sec_untrusted_languages(per_db: list[dict]):
    findings = _unvisited(per_db) + [
        _finding("warn", f"{d['database']}: {', '.join(d['untrusted_languages'])}", database=d["database"])
        for d in per_db
        if d.get("untrusted_languages")
    ]
    return _graded(findings, f"{len(per_db)} database(s) checked")


def sec_public_schema(per_db: list[dict]):
    findings = _unvisited(per_db) + [
        _finding("warn", f"{d['database']}: PUBLIC has CREATE on schema public", database=d["database"])
        for d in per_db
        if d.get("public_create")
    ]
    return _graded(findings, f"{len(per_db)} database(s) checked")


def sec_preload_libraries(settings: dict, allowed=DEFAULT_PRELOAD_LIBRARIES):
    """Every library of shared/session/local_preload_libraries must be on ``allowed``: they
    run inside every backend with the server's privileges."""
    allowed = set(allowed or ())
    findings = []
    for name in ("shared_preload_libraries", "session_preload_libraries", "local_preload_libraries"):
        for lib in _csv(settings.get(name)):
            base = lib.rsplit("/", 1)[-1].removesuffix(".so").removeprefix("$libdir/")
            if base not in allowed:
                findings.append(_finding("warn", f"{name}: {lib} is not on the allow-list", library=lib))
    return _graded(findings, f"shared_preload_libraries = {settings.get('shared_preload_libraries') or '-'}")


def validate_security(options) -> dict:
    """``{superusers, os_user, preload_libraries}`` with defaults; HealthError naming the key."""
    out = {
        "superusers": list(DEFAULT_SUPERUSERS),
        "os_user": "postgres",
        "preload_libraries": list(DEFAULT_PRELOAD_LIBRARIES),
    }
    if options in (None, {}):
        return out
    if not isinstance(options, dict) or set(options) - set(out):
        raise HealthError(f"security must be a mapping with keys {', '.join(out)}, got {options!r}")
    for key in ("superusers", "preload_libraries"):
        value = options.get(key, out[key])
        if (
            isinstance(value, str)
            or not isinstance(value, (list, tuple))
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise HealthError(f"security.{key} must be a list of names, got {value!r}")
        out[key] = list(value)
    os_user = options.get("os_user", out["os_user"])
    if not isinstance(os_user, str) or not os_user:
        raise HealthError(f"security.os_user must be an OS user name, got {os_user!r}")
    out["os_user"] = os_user
    return out


class SecurityContext:
    """A superuser autocommit connection, the health SQL, the module's connection params (for
    the other databases) and the security options; the settings, roles and per-database rows
    are read once, on first use."""

    def __init__(self, conn, sql: dict[str, str], pg_params: dict, options: dict):
        self.conn, self.sql, self.pg_params, self.options = conn, sql, pg_params, options
        self._memo: dict = {}

    def _once(self, key, fn):
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    def rows(self, query: str) -> list[dict]:
        return rows(self.conn, self.sql[query])

    def settings(self) -> dict:
        return self._once(
            "settings", lambda: {r["name"]: r["setting"] for r in self.rows("security_settings")}
        )

    def roles(self) -> list[dict]:
        return self._once("roles", lambda: self.rows("security_roles"))

    def per_db(self) -> list[dict]:
        """``security_database.sql`` in every database that allows connections; a database
        that refuses the connection is a row with its ``error``."""
        return self._once("per_db", self._visit)

    def _visit(self) -> list[dict]:
        found = []
        for db in [r["datname"] for r in self.rows("security_databases")]:
            if db == self.conn.info.dbname:
                found += self.rows("security_database")
                continue
            try:
                other = connect(
                    {**self.pg_params, "db": db}, autocommit=True, application_name="ved-db-ops health"
                )
            except VedfinError as exc:
                found.append({"database": db, "error": oneline(exc)})
                continue
            try:
                found += rows(other, self.sql["security_database"])
            finally:
                other.close()
        return found


@check(
    "pg_sec_hba_auth",
    "pg_hba: no trust/password/md5, no ident over the network",
    unit="count",
    anchor="security-pg_hba-authentication",
    remedy="Use scram-sha-256 (peer on the socket), hostssl, narrow addresses",
)
def pg_sec_hba_auth(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_hba(ctx.rows("security_hba"), ctx.settings().get("listen_addresses")))


@check(
    "pg_sec_password_encryption",
    "password_encryption is scram-sha-256",
    anchor="security-password-hashes",
    remedy="Set password_encryption = scram-sha-256 (postgresql role)",
)
def pg_sec_password_encryption(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_password_encryption(ctx.settings().get("password_encryption")))


@check(
    "pg_sec_md5_passwords",
    "Roles still holding an MD5 password hash",
    unit="count",
    anchor="security-password-hashes",
    remedy="Set those roles' passwords again under scram-sha-256",
)
def pg_sec_md5_passwords(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_md5_passwords(ctx.roles()))


@check(
    "pg_sec_superusers",
    "Superusers and superuser-equivalent roles",
    unit="count",
    anchor="security-superusers-and-privileged-roles",
    remedy="ALTER ROLE ... NOSUPERUSER / NOCREATEROLE; REVOKE pg_*_server_* roles",
)
def pg_sec_superusers(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_superusers(ctx.roles(), ctx.options.get("superusers", DEFAULT_SUPERUSERS)))


@check(
    "pg_sec_file_modes",
    "Data directory and config file owner/modes",
    unit="count",
    anchor="security-data-directory-and-config-file-modes",
    remedy="chown postgres, chmod 0700 the data directory, no group/other write on config files",
)
def pg_sec_file_modes(ctx: SecurityContext) -> Outcome:
    s = ctx.settings()
    paths = {k: s.get(k) for k in ("data_directory", "config_file", "hba_file", "ident_file")}
    return Outcome(*sec_file_modes(file_facts(paths), ctx.options.get("os_user") or "postgres"))


@check(
    "pg_sec_ssl",
    "TLS on with a TLSv1.2 floor",
    anchor="security-tls",
    remedy="ssl = on, ssl_min_protocol_version = TLSv1.2 (postgresql role)",
)
def pg_sec_ssl(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_ssl(ctx.settings()))


@check(
    "pg_sec_logging",
    "Connection logging and log_line_prefix",
    unit="count",
    anchor="security-connection-logging",
    remedy="log_connections/log_disconnections on, user, database and time in log_line_prefix",
)
def pg_sec_logging(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_logging(ctx.settings()))


@check(
    "pg_sec_untrusted_languages",
    "Untrusted procedural languages installed",
    unit="count",
    anchor="security-untrusted-languages",
    remedy="DROP EXTENSION plperlu/plpython3u/pltclu where nothing needs it",
)
def pg_sec_untrusted_languages(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_untrusted_languages(ctx.per_db()))


@check(
    "pg_sec_public_schema",
    "PUBLIC may CREATE in schema public",
    unit="count",
    anchor="security-create-on-schema-public",
    remedy="REVOKE CREATE ON SCHEMA public FROM PUBLIC in each listed database",
)
def pg_sec_public_schema(ctx: SecurityContext) -> Outcome:
    return Outcome(*sec_public_schema(ctx.per_db()))


@check(
    "pg_sec_preload_libraries",
    "Preloaded libraries outside the allow-list",
    unit="count",
    anchor="security-preload-libraries",
    remedy="Remove the library from *_preload_libraries or add it to health_security_preload_libraries",
)
def pg_sec_preload_libraries(ctx: SecurityContext) -> Outcome:
    allowed = ctx.options.get("preload_libraries", DEFAULT_PRELOAD_LIBRARIES)
    return Outcome(*sec_preload_libraries(ctx.settings(), allowed))


def _failed(exc: Exception) -> str:
    reason = oneline(exc)
    hint = " (the security checks need a superuser)" if "permission denied" in reason else ""
    return f"check failed: {reason}{hint}"


def security_checks(
    conn, names, thresholds, sql: dict[str, str], pg_params: dict, options: dict | None = None
) -> list[dict]:
    """The security checks in ``names`` on an autocommit superuser connection; ``pg_params``
    (vedfin_pg module params) connect to the other databases, ``options`` are
    ``validate_security``'s. Missing SQL is a HealthError; a check that raises is warn."""
    if not any(n in names for n, spec in CHECKS.items() if spec.section == "security"):
        return []
    require_sql(sql, SECURITY_SQL)
    ctx = SecurityContext(conn, sql, pg_params, options or {})
    return evaluate("security", ctx, names, thresholds, on_error=_failed)
