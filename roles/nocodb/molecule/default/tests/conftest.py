"""Shared helpers for the nocodb scenario: test vars and an HTTP client run on the host."""

import json
import pathlib

import pytest
import yaml

VARS = yaml.safe_load((pathlib.Path(__file__).parent.parent / "vars" / "nocodb.yml").read_text())
BASE = f"http://127.0.0.1:{VARS['nocodb_port']}"

# Runs inside the test host (no curl in the image): prints {"status", "body", "headers"}.
_CLIENT = r"""
import json, sys, urllib.request, urllib.error
method, url, token, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
hdrs = {}
headers = {"Content-Type": "application/json"}
if token:
    headers["xc-auth"] = token
req = urllib.request.Request(url, data=body.encode() if body else None, headers=headers, method=method)
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        status, raw, hdrs = r.status, r.read(), dict(r.headers)
except urllib.error.HTTPError as e:
    status, raw, hdrs = e.code, e.read(), dict(e.headers)
except Exception as e:
    status, raw = 0, str(e).encode()
try:
    parsed = json.loads(raw or b"null")
except ValueError:
    parsed = raw.decode(errors="replace")[:500]
print(json.dumps({"status": status, "body": parsed, "headers": {k.lower(): v for k, v in hdrs.items()}}))
"""


class Api:
    def __init__(self, host):
        self.host = host

    def call(self, method, path, token="", body=None):
        status, body, _ = self.call_with_headers(method, path, token, body)
        return status, body

    def call_with_headers(self, method, path, token="", body=None, base=BASE):
        payload = json.dumps(body) if body is not None else ""
        res = self.host.run(
            "python3 -c %s %s %s %s %s",
            _CLIENT,
            method,
            base + path,
            token,
            payload,
        )
        assert res.rc == 0, res.stderr
        out = json.loads(res.stdout)
        return out["status"], out["body"], out["headers"]

    def token(self):
        status, body = self.call(
            "POST",
            "/api/v1/auth/user/signin",
            body={"email": VARS["nocodb_admin_email"], "password": VARS["nocodb_admin_password"]},
        )
        assert status == 200, body
        return body["token"]


@pytest.fixture
def api(host):
    return Api(host)
