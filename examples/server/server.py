"""A small web server for examples/server.ps1: an HTML page, a JSON API and an echo endpoint.

Standard library only. Listens on 0.0.0.0 (inside the sandbox; the published port on the host is bound to
127.0.0.1) on the port given as the first argument, 8000 by default, and logs each request to stderr.
"""
import http.server
import json
import platform
import socket
import sys
from datetime import datetime, timezone

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8000


class Handler(http.server.BaseHTTPRequestHandler):
    def send_body(self, status, content_type, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/":
            page = (
                "<!DOCTYPE html>\n"
                "<html><head><title>Sandbox server</title></head>\n"
                "<body>\n"
                "<h1>Hello World from a Sandbox!</h1>\n"
                f"<p>Served by Python {platform.python_version()} in container {socket.gethostname()}.</p>\n"
                f"<p>You asked for {self.path} with {self.headers.get('User-Agent', 'no user agent')}.</p>\n"
                "</body></html>\n"
            )
            self.send_body(200, "text/html; charset=utf-8", page)
        elif self.path == "/api/info":
            info = {
                "python": platform.python_version(),
                "host": socket.gethostname(),
                "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            self.send_body(200, "application/json", json.dumps(info))
        else:
            self.send_body(404, "application/json", json.dumps({"error": f"no route {self.path}"}))

    def do_POST(self):
        if self.path != "/api/echo":
            self.send_body(404, "application/json", json.dumps({"error": f"no route {self.path}"}))
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            reply = {"success": True, "received": json.loads(raw)}
        except ValueError as error:
            reply = {"success": False, "error": f"not JSON: {error}"}
        self.send_body(200 if reply["success"] else 400, "application/json", json.dumps(reply))

    def log_message(self, format, *args):
        print(f"server: {self.address_string()} {format % args}", file=sys.stderr, flush=True)


print(f"server: listening on 0.0.0.0:{PORT}", file=sys.stderr, flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
