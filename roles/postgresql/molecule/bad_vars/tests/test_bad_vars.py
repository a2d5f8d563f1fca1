"""Every case of tests/bad_vars/postgresql.yml, run for real (not check mode) against this
fresh host through the one bad-variables harness: each is rejected with its message, and the
host is left untouched (no PostgreSQL package, no config directory)."""

from __future__ import annotations

import bad_vars_cases


def test_every_bad_input_is_rejected_and_the_host_untouched(host):
    good, cases = bad_vars_cases.load("postgresql")
    connection = {
        "ansible_connection": "containers.podman.podman",
        "ansible_host": host.backend.name,
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    outcomes, _ = bad_vars_cases.run("postgresql", good, cases, connection=connection, check=False)
    wrong = bad_vars_cases.mismatches(cases, outcomes)
    assert not wrong, "\n".join(wrong)
    for package in ("postgresql-common", "postgresql-15"):
        assert not host.package(package).is_installed, package
    for path in (
        "/etc/postgresql-common",
        "/etc/postgresql",
        "/var/lib/postgresql",
        "/usr/local/sbin/pg-check-conf",
    ):
        assert not host.file(path).exists, path
