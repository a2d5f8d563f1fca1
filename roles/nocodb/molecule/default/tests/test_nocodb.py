"""Behaviour of the converged nocodb role, one behaviour per test."""

import os
import re
import time

from conftest import VARS

PORT = VARS["nocodb_port"]
RO_TITLE = "vedfin (read-only)"


def show(host, *props):
    out = host.check_output("systemctl show nocodb -p " + " -p ".join(props))
    return dict(line.split("=", 1) for line in out.splitlines())


def test_service_active_and_enabled(host):
    svc = host.service("nocodb")
    assert svc.is_running
    assert svc.is_enabled


def test_unit_is_hardened(host):
    p = show(
        host,
        "User",
        "NoNewPrivileges",
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "ReadWritePaths",
        "Restart",
        "RestartUSec",
        "StartLimitBurst",
        "StartLimitIntervalUSec",
        "MemoryMax",
        "CapabilityBoundingSet",
    )
    assert p["User"] == "nocodb"
    assert p["NoNewPrivileges"] == "yes"
    assert p["ProtectSystem"] == "strict"
    assert p["ProtectHome"] == "yes"
    assert p["PrivateTmp"] == "yes"
    assert p["ReadWritePaths"] == "/var/lib/nocodb"
    assert p["Restart"] == "on-failure"
    # bounded: a crash loop stops after 5 starts in 2 min
    assert p["RestartUSec"] == "2s"
    assert p["StartLimitBurst"] == "5"
    assert p["StartLimitIntervalUSec"] == "2min"
    assert int(p["MemoryMax"]) == VARS["nocodb_memory_max_mb"] * 1024 * 1024
    assert p["CapabilityBoundingSet"] == ""


def test_sandbox_is_live(host):
    """The running process really has no privileges and a read-only file system but its data dir."""
    pid = show(host, "MainPID")["MainPID"]
    status = host.file(f"/proc/{pid}/status").content_string
    assert "NoNewPrivs:\t1" in status
    assert "CapEff:\t0000000000000000" in status
    mounts = {}
    for line in host.file(f"/proc/{pid}/mountinfo").content_string.splitlines():
        fields = line.split()
        mounts[fields[4]] = fields[5].split(",")
    assert "ro" in mounts["/"], mounts["/"]
    assert "rw" in mounts["/var/lib/nocodb"], mounts.get("/var/lib/nocodb")


def test_env_file_is_private(host):
    f = host.file("/etc/nocodb/nocodb.env")
    assert f.user == "root" and f.mode == 0o600
    content = f.content_string
    for line in (
        'NC_DISABLE_TELE="true"',
        'NC_DISABLE_ERR_REPORTS="true"',
        'NC_DISABLE_SUPPORT_CHAT="true"',
        'NC_CONNECT_TO_EXTERNAL_DB_DISABLED="true"',
        f'NC_CONNECTION_ENCRYPT_KEY="{VARS["nocodb_connection_encrypt_key"]}"',
        'HOST="127.0.0.1"',
    ):
        assert line in content, line
    assert "NC_SENTRY_DSN" not in content


def test_lock_file_kept(host):
    assert host.file("/opt/nocodb/package-lock.json").exists
    assert '"xlsx": "npm:xlsx@0.18.5"' in host.file("/opt/nocodb/package.json").content_string


def test_listens_on_loopback_only(host):
    assert host.socket(f"tcp://127.0.0.1:{PORT}").is_listening
    listeners = host.check_output(f"ss -Hltn 'sport = :{PORT}'")
    assert [line.split()[3] for line in listeners.splitlines()] == [f"127.0.0.1:{PORT}"]


def test_health_200(api):
    status, _ = api.call("GET", "/api/v1/health")
    assert status == 200


def test_anonymous_meta_api_refused(api):
    status, _ = api.call("GET", "/api/v2/meta/bases")
    assert status == 401


def test_anonymous_signup_refused(api):
    status, body = api.call(
        "POST",
        "/api/v1/auth/user/signup",
        body={"email": "intruder@example.invalid", "password": "Intruder-Passw0rd-123"},
    )
    assert status == 400
    assert "Not allowed to signup" in str(body)


def test_admin_sign_in_and_settings(api):
    status, settings = api.call("GET", "/api/v1/app-settings", token=api.token())
    assert status == 200
    assert settings["invite_only_signup"] is True
    assert settings.get("restrict_workspace_creation", True) is True


def _ro_base(api, token):
    status, bases = api.call("GET", "/api/v2/meta/bases", token=token)
    assert status == 200
    found = [b for b in bases["list"] if b["title"] == RO_TITLE]
    assert len(found) == 1, [b["title"] for b in bases["list"]]
    return found[0]


def test_readonly_source_lists_tables(api):
    token = api.token()
    base = _ro_base(api, token)
    status, tables = api.call("GET", f"/api/v2/meta/bases/{base['id']}/tables", token=token)
    assert status == 200
    names = [t["table_name"] for t in tables["list"]]
    assert "molecule_probe" in names
    # the extension's views (every session's query text) are not the admins' to browse
    assert not [n for n in names if n.startswith("pg_stat_statements")], names


def test_readonly_source_reads_and_rejects_writes(api):
    token = api.token()
    base = _ro_base(api, token)
    _, tables = api.call("GET", f"/api/v2/meta/bases/{base['id']}/tables", token=token)
    table = next(t for t in tables["list"] if t["table_name"] == "molecule_probe")
    status, rows = api.call("GET", f"/api/v2/tables/{table['id']}/records", token=token)
    assert status == 200 and rows["list"], rows
    status, body = api.call(
        "POST",
        f"/api/v2/tables/{table['id']}/records",
        token=token,
        body=[{"id": 2, "label": "two"}],
    )
    assert status == 403, body
    assert "read-only" in str(body)


def test_readonly_role_cannot_write_in_postgresql(host):
    """Second line of defence: analytics_ro itself has no INSERT."""
    res = host.run(
        "PGPASSWORD=%s psql -h 127.0.0.1 -U analytics_ro -d vedfin -c %s",
        VARS["nocodb_readonly_source_password"],
        "INSERT INTO molecule_probe VALUES (3, 'three')",
    )
    assert res.rc != 0 and "permission denied" in res.stderr


def _security_score(host):
    out = host.check_output("systemd-analyze security nocodb.service --no-pager 2>&1 | tail -1")
    return float(re.search(r"exposure level for nocodb.service: ([0-9.]+)", out).group(1))


def test_systemd_sandbox_score(host):
    """systemd-analyze security: 3.0 before issue 17, at most 5.0 allowed (lower is better)."""
    score = _security_score(host)
    print(f"systemd-analyze security nocodb.service: {score}")
    assert score <= 5.0


def test_no_x_powered_by(api):
    """No framework banner on the API, the UI or an error page."""
    for path in ("/api/v1/health", "/dashboard/", "/api/v2/meta/bases", "/no-such-page"):
        _, _, headers = api.call_with_headers("GET", path)
        assert "x-powered-by" not in headers, (path, headers)


def test_external_db_bases_refused(api):
    """NC_CONNECT_TO_EXTERNAL_DB_DISABLED: nobody adds another external database."""
    status, body = api.call(
        "POST",
        "/api/v2/meta/bases",
        token=api.token(),
        body={
            "title": "intruder-external",
            "external": True,
            "sources": [{"type": "pg", "config": {"client": "pg", "connection": {"host": "127.0.0.1"}}}],
        },
    )
    assert status == 400, body
    assert "external db is disabled" in str(body)


def _meta_sql(host, sql):
    return host.check_output("runuser -u postgres -- psql -XAtq -d nocodb -c %s", sql)


def test_source_password_not_stored_in_clear(host, api):
    """NC_CONNECTION_ENCRYPT_KEY: the read-only source's password is nowhere in clear in the metadata DB."""
    _ro_base(api, api.token())  # the source exists
    password = VARS["nocodb_readonly_source_password"]
    for table in ("nc_sources_v2", "nc_integrations_v2"):
        rows = int(_meta_sql(host, f"SELECT count(*) FROM {table} WHERE config IS NOT NULL"))
        clear = int(_meta_sql(host, f"SELECT count(*) FROM {table} WHERE config LIKE '%{password}%'"))
        print(f"{table}: {rows} configs, {clear} with the password in clear")
        assert clear == 0
    # 0.301 keeps an external base's connection in its integration (the source row points at it)
    encrypted = _meta_sql(
        host,
        "SELECT (SELECT count(*) FROM nc_sources_v2 WHERE is_encrypted AND config IS NOT NULL)"
        " + (SELECT count(*) FROM nc_integrations_v2 WHERE is_encrypted AND config IS NOT NULL)",
    )
    assert int(encrypted) >= 1


def test_build_tools_purged(host):
    """Compilers lived only for the build (no second converge reinstalls them)."""
    for pkg in ("build-essential", "g++", "gcc", "make"):
        assert not host.package(pkg).is_installed, pkg
    assert not host.exists("cc")


def test_code_owned_by_build_user_not_service(host):
    """npm ran as nocodb-build; the service user can read its code but not write it."""
    for path in (
        "/opt/nocodb/node_modules",
        "/opt/nocodb/node_modules/nocodb",
        "/opt/nocodb/package-lock.json",
    ):
        assert host.file(path).user == "nocodb-build", path
    assert host.file("/opt/nocodb/index.js").user == "root"
    res = host.run("runuser -u nocodb -- test -w /opt/nocodb/node_modules/nocodb/package.json")
    assert res.rc != 0
    res = host.run("runuser -u nocodb -- test -r /opt/nocodb/node_modules/nocodb/package.json")
    assert res.rc == 0


def _wait_back(host, api, old_pid):
    start = time.monotonic()
    deadline = start + 60
    status = 0
    while time.monotonic() < deadline:
        status, _ = api.call("GET", "/api/v1/health")
        if status == 200 and show(host, "MainPID")["MainPID"] not in ("0", old_pid):
            break
        time.sleep(0.25)
    return status, time.monotonic() - start


def test_killed_process_is_restarted(host, api):
    """SIGKILL of the node process, three times: back within 30 s each, data committed before is kept."""
    token = api.token()
    probe = f"fault-probe-{int(time.time())}"
    status, created = api.call("POST", "/api/v2/meta/bases", token=token, body={"title": probe})
    assert status in (200, 201), created
    times = []
    try:
        for _ in range(3):
            before = show(host, "MainPID", "NRestarts")
            host.check_output("systemctl kill -s SIGKILL --kill-whom=main nocodb")
            status, elapsed = _wait_back(host, api, before["MainPID"])
            times.append(round(elapsed, 1))
            after = show(host, "MainPID", "NRestarts")
            assert status == 200
            assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
            # RestartSec=2 + NocoDB boot; 30 s is the bound from issue 17.
            assert elapsed < 30
            # the admin still signs in, and the base committed before the kill is still there
            token = api.token()
            _, bases = api.call("GET", "/api/v2/meta/bases", token=token)
            assert probe in [b["title"] for b in bases["list"]]
            _ro_base(api, token)
    finally:
        print(f"nocodb back to health after SIGKILL (s): {times}")
        if os.environ.get("VED_RESTART_TIMES_FILE"):  # pytest hides prints of passing tests
            with open(os.environ["VED_RESTART_TIMES_FILE"], "a") as f:
                f.write(f"nocodb {times} score={_security_score(host)}\n")
        api.call("DELETE", f"/api/v2/meta/bases/{created['id']}", token=api.token())
