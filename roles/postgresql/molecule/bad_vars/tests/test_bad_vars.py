"""Every case of tests/bad_vars/postgresql.yml, run for real (not check mode) against this
fresh host through the one bad-variables harness: each is rejected with its message, and the
host is left untouched (no PostgreSQL package, no config directory)."""

from __future__ import annotations

import bad_vars_cases


def test_every_bad_input_is_rejected_and_the_host_untouched(host):
    wrong = bad_vars_cases.wrong_on_container("postgresql", host.backend.get_hostname())
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
