"""A Slack-compatible incoming-webhook receiver on loopback that records what it was sent.

``responses`` scripts the status of successive requests (then 200 for ever), so tests can make
the first attempts fail with 500 or 429 and check the retries.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self, responses=(), token="T000/B000/secret-webhook-token"):
        self.responses = list(responses)
        self.token = token
        self.received = []
        self.paths = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver.responses.pop(0) if receiver.responses else 200
                    receiver.paths.append(self.path)
                    if status == 200:
                        receiver.received.append(json.loads(body))
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d/services/%s" % (self.server.server_address[1], self.token)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
