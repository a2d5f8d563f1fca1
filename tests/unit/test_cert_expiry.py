"""roles/monitoring/files/ved_cert_expiry.py (ved-cert-expiry on the host): its metrics text
for readable, unreadable and real certificates, checked by promtool's own parser."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "monitoring" / "files" / "ved_cert_expiry.py"
PROMTOOL = shutil.which("promtool") or str(ROOT / ".local" / "bin" / "promtool")

spec = importlib.util.spec_from_file_location("ved_cert_expiry", SCRIPT)
ved_cert_expiry = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ved_cert_expiry)


def promtool_check(text: str) -> None:
    res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_missing_file_shows_as_unreadable_not_as_silence(tmp_path):
    text = ved_cert_expiry.render({"postgresql": str(tmp_path / "missing.pem")})
    assert 'ved_tls_cert_readable{name="postgresql",path="' in text and text.rstrip().endswith(" 0")
    assert "ved_tls_cert_not_after_timestamp_seconds{" not in text
    promtool_check(text)


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_a_real_certificate_gives_its_not_after(tmp_path):
    cert = tmp_path / "c.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=t",
         "-keyout", str(tmp_path / "k.pem"), "-out", str(cert), "-days", "30"],
        check=True, capture_output=True,
    )  # fmt: skip
    stamp = ved_cert_expiry.not_after(str(cert))
    end = subprocess.run(
        ["openssl", "x509", "-noout", "-checkend", str(29 * 86400), "-in", str(cert)], capture_output=True
    )
    assert end.returncode == 0  # openssl agrees it is valid for 29 more days
    text = ved_cert_expiry.render({"pg": str(cert), "gone": "/nonexistent.pem"})
    assert f'ved_tls_cert_not_after_timestamp_seconds{{name="pg",path="{cert}"}} {stamp:.0f}' in text
    assert 'ved_tls_cert_readable{name="gone",path="/nonexistent.pem"} 0' in text
    promtool_check(text)


def test_label_values_use_the_text_formats_escapes_only():
    # Prometheus' parser knows \\, \" and \n; a JSON-style \u00e9 would make it drop the file.
    text = ved_cert_expiry.render({"pg": '/etc/ssl/café "x"\\y.pem'})
    assert 'path="/etc/ssl/café \\"x\\"\\\\y.pem"' in text
    promtool_check(text)


def test_main_writes_the_file_whole(tmp_path):
    assert ved_cert_expiry.main([str(tmp_path), "pg=/nonexistent.pem"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["ved_tls.prom"]
    assert (tmp_path / "ved_tls.prom").stat().st_mode & 0o777 == 0o644
    assert ved_cert_expiry.main([str(tmp_path), "no-equals-sign"]) == 2
