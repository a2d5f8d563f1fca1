"""The -vvv log scan of the molecule scenarios: which values count as secrets, what is a hit."""

from __future__ import annotations

import secret_scan
import yaml


def test_secret_values_by_key_name():
    doc = yaml.safe_load(
        """
        redis_admin_password: molecule-admin-password
        redis_users:
          - {name: app, password: molecule-app-password, keys: ['ved:*']}
        nocodb_jwt_secret: a-jwt-secret-for-tests
        pgbackrest_repo_cipher_pass: cipher-pass-for-tests
        nocodb_connection_encrypt_key: encrypt-key-for-tests
        postgresql_app_password: "{{ vault_postgresql_app_password }}"
        short_password: abc
        comment: molecule-admin-password-is-not-here
        """
    )
    assert secret_scan.secret_values(doc) == {
        "molecule-admin-password",
        "molecule-app-password",
        "a-jwt-secret-for-tests",
        "cipher-pass-for-tests",
        "encrypt-key-for-tests",
    }


def test_scan_finds_and_masks(tmp_path):
    log = "ok: [h]\n<h> EXEC /bin/sh -c 'PGPASSWORD=molecule-app-password python3'\n"
    hits = secret_scan.scan(log, {"molecule-app-password", "never-there-value"})
    assert hits == ["line 2: secret mol…(21 chars)"]
    assert "molecule-app-password" not in hits[0]


def test_scan_finds_a_secret_split_by_molecules_line_wrap():
    log = "  \x1b[2m\u2502\x1b[0m <h> EXEC PGPASSWORD=molecule-app-\n  \x1b[2m\u2502\x1b[0m   password psql\n"
    assert secret_scan.scan(log, {"molecule-app-password"}) == [
        "secret mol…(21 chars), split over a wrapped line"
    ]


def test_scan_finds_jwt():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFkbWluIn0.c2lnbmF0dXJlLXBhcnQ"
    assert secret_scan.scan(f"xc-auth: {token}\n", set()) == ["line 1: a JWT eyJ…(64 chars)"]


def test_main_exit_codes(tmp_path, capsys):
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "converge.yml").write_text(
        "- hosts: all\n  vars:\n    redis_admin_password: molecule-admin-password\n"
    )
    clean = tmp_path / "clean.log"
    clean.write_text("ok: [h] => changed=false\n")
    leaky = tmp_path / "leaky.log"
    leaky.write_text("module_args: {password: molecule-admin-password}\n")
    assert secret_scan.main([str(clean), str(scen)]) == 0
    assert secret_scan.main([str(leaky), str(scen)]) == 1
    out = capsys.readouterr().out
    assert "1 secret values looked for, 1 found" in out
    assert "molecule-admin-password" not in out
