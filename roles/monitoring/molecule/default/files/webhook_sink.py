"""Test-only alert receiver for the monitoring scenario: appends each webhook POST (with the
time it arrived) as one JSON line to the file given as argv[2], listening on 127.0.0.1:argv[1]."""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(sys.argv[2], "a") as out:
            out.write(json.dumps({"received_at": time.time(), "body": body}) + "\n")
        self.send_response(200)
        self.end_headers()


HTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
