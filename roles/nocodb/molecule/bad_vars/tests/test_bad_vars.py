"""Every case of tests/bad_vars/nocodb.yml, run for real (not check mode) against this fresh
host through the one bad-variables harness: each is rejected with its message (the
`real_only` ones need this host: no PostgreSQL here, and a port taken by another process), and
nothing is installed, created or started."""

from __future__ import annotations

import bad_vars_cases

SQUATTER_PORT = 18081  # the "port in use by another process" case of the table


def test_every_bad_input_is_rejected_and_the_host_untouched(host):
    squat = host.run(
        "systemd-run --unit ved-port-squatter python3 -m http.server %s --bind 127.0.0.1"
        " && for i in $(seq 100); do ss -Htln 'sport = :%s' | grep -q . && exit 0; sleep 0.1; done; exit 1",
        str(SQUATTER_PORT),
        str(SQUATTER_PORT),
    )
    assert squat.rc == 0, squat.stderr
    wrong = bad_vars_cases.wrong_on_container("nocodb", host.backend.get_hostname())
    assert not wrong, "\n".join(wrong)
    for path in (
        "/opt/nocodb",
        "/var/lib/nocodb",
        "/var/lib/nocodb-build",
        "/etc/nocodb",
        "/etc/systemd/system/nocodb.service",
    ):
        assert not host.file(path).exists, path
    assert host.run("getent passwd nocodb nocodb-build").rc != 0
    assert host.run("pgrep -u nocodb").rc != 0
    assert not host.package("build-essential").is_installed
