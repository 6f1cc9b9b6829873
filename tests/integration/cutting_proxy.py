#!/usr/bin/python3
"""An HTTP proxy in front of a registry that breaks blob downloads midway.

The first GET of each blob without a Range gets the registry's status and
headers (the whole Content-Length) but only half the body, then the
connection is closed: the client sees a transfer cut off, as when the
registry goes away mid-pull. Every other request is passed through. Each
request is logged to LOG as "GET PATH RANGE" (RANGE "-" when absent).

Usage: cutting_proxy.py UPSTREAM_HOST:PORT PORTFILE LOG
"""
import http.client
import http.server
import os
import sys
import threading

UPSTREAM, PORTFILE, LOG = sys.argv[1:4]
cut = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        with lock, open(LOG, "a") as log:
            log.write("GET %s %s\n" % (self.path, rng or "-"))
            first = "/blobs/" in self.path and rng is None and self.path not in cut
            if first:
                cut.add(self.path)
        upstream = http.client.HTTPConnection(UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request("GET", self.path, headers=headers)
        response = upstream.getresponse()
        body = response.read()
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if first and response.status == 200:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
