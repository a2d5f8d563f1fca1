#!/usr/bin/python3
"""ved-cert-expiry: the expiry dates of TLS certificates as node-exporter textfile metrics.

    ved-cert-expiry OUT_DIR NAME=PATH [NAME=PATH ...]

Writes OUT_DIR/ved_tls.prom (a temporary file, then a rename, so a scrape never reads half of
it): ved_tls_cert_not_after_timestamp_seconds{name, path} for each certificate it can read,
and ved_tls_cert_readable{name, path} (1 or 0) for every one, so a missing or broken file
shows instead of silently dropping its expiry. Installed and run hourly by roles/monitoring
(ved-cert-expiry.timer); the alert CertificateExpiresSoon reads it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile


def not_after(path: str) -> float:
    """The certificate's notAfter as a Unix time (openssl prints 'notAfter=Mar  5 12:00:00 2035 GMT')."""
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-in", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stamp = dt.datetime.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    return stamp.replace(tzinfo=dt.UTC).timestamp()


def quote(value: str) -> str:
    """A label value in Prometheus' text format: only \\, \" and newline are escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(certs: dict[str, str], read=not_after) -> str:
    expiry, readable = [], []
    for name, path in sorted(certs.items()):
        labels = f"name={quote(name)},path={quote(path)}"
        try:
            expiry.append(f"ved_tls_cert_not_after_timestamp_seconds{{{labels}}} {read(path):.0f}")
            readable.append(f"ved_tls_cert_readable{{{labels}}} 1")
        except (OSError, ValueError, subprocess.CalledProcessError):
            readable.append(f"ved_tls_cert_readable{{{labels}}} 0")
    return "\n".join(
        [
            "# HELP ved_tls_cert_not_after_timestamp_seconds When the certificate expires (Unix time).",
            "# TYPE ved_tls_cert_not_after_timestamp_seconds gauge",
            *expiry,
            "# HELP ved_tls_cert_readable 1 when the certificate file could be read and parsed.",
            "# TYPE ved_tls_cert_readable gauge",
            *readable,
            "",
        ]
    )


def write_atomic(directory: str, name: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str]) -> int:
    if len(argv) < 1 or not all("=" in a for a in argv[1:]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    certs = dict(a.split("=", 1) for a in argv[1:])
    write_atomic(argv[0], "ved_tls.prom", render(certs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
