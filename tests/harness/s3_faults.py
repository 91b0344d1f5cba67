"""An HTTP reverse proxy in front of the S3 endpoint that makes uploads fail midway.

Every request is forwarded to the real endpoint (moto_server) unchanged, except multipart
``UploadPart`` requests from part ``fail_from_part`` on, which get the error S3 itself would send
(``403 AccessDenied`` by default, as when credentials expire during an upload; or, for a
limited number of times, a transient error such as ``503 SlowDown``).  Aborting,
listing and everything else keep working, so a test can check what the client left behind.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "expect", "content-length"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self):
        proxy = self.server.owner
        body = self._body()
        query = parse_qs(urlsplit(self.path).query)
        if self.command == "PUT" and "partNumber" in query and "uploadId" in query:
            number = int(query["partNumber"][0])
            proxy.parts_seen.append(number)
            if number >= proxy.fail_from_part and (proxy.times is None or len(proxy.failed) < proxy.times):
                proxy.failed.append(number)
                if proxy.hang:
                    # an endpoint that took the part and never answers (until the client gives up)
                    proxy.released.wait(proxy.hang)
                    return
                self._send(proxy.status, {"Content-Type": "application/xml"}, (
                    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s '
                    "(injected by the test proxy)</Message></Error>" % (proxy.code, proxy.code)).encode())
                return
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            out = {k: v for k, v in response.getheaders() if k.lower() not in HOP_HEADERS}
            if self.command == "HEAD":
                out["Content-Length"] = response.getheader("Content-Length", "0")
                self._send(response.status, out, b"", head=True)
            else:
                self._send(response.status, out, data)
        finally:
            upstream.close()

    def _send(self, status, headers, data, head=False):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if not head:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


class FailingUploadProxy:
    """``FailingUploadProxy(s3.endpoint, fail_from_part=3).start()``; use ``.endpoint`` as endpoint_url.

    ``times`` limits how many part uploads fail (a transient fault); by default every one does.
    ``hang`` holds those part uploads that long without an answer (a frozen endpoint).
    """

    def __init__(self, upstream, fail_from_part=2, status=403, code="AccessDenied", times=None, hang=None):
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.fail_from_part = fail_from_part
        self.status = status
        self.code = code
        self.times = times  # fail only this many requests (None: every one), to test retries
        self.hang = hang  # seconds to hold a failing part upload without any answer (None: answer the error)
        self.released = threading.Event()
        self.parts_seen = []
        self.failed = []
        self._server = None
        self._thread = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
