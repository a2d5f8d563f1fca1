"""Behaviour of the converged nocodb role, one behaviour per test."""

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
    assert 'NC_DISABLE_TELE="true"' in f.content_string
    assert 'HOST="127.0.0.1"' in f.content_string


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


def test_killed_process_is_restarted(host, api):
    before = show(host, "MainPID", "NRestarts")
    host.check_output("systemctl kill -s SIGKILL nocodb")
    start = time.monotonic()
    deadline = start + 60
    status = 0
    while time.monotonic() < deadline:
        status, _ = api.call("GET", "/api/v1/health")
        if status == 200 and show(host, "MainPID")["MainPID"] not in ("0", before["MainPID"]):
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - start
    print(f"nocodb back to health {elapsed:.1f} s after SIGKILL")
    after = show(host, "MainPID", "NRestarts")
    assert status == 200
    assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
    # RestartSec=2 + NocoDB boot (~3 s cold boot measured by hand); 30 s leaves room for a slow runner.
    # The elapsed time is printed (run pytest with -s / molecule verify -- -s to see it).
    assert elapsed < 30
