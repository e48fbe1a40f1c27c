"""
A webhook receiver for the tests: a real HTTP server on the loopback that keeps what each delivery brought.

``answers`` scripts it: each request takes the next ``Answer`` (status, body, delay before
answering, extra headers); once the script runs out, every request gets ``default``. Used by the
dev LMS's tests and, loaded by path, by the platform suite.
"""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What the receiver answers one request."""

    status: int = 204
    body: bytes = b""
    delay: float = 0.0
    headers: dict = field(default_factory=dict)


@dataclass
class Delivery:
    """One request as the receiver got it: its path, headers (lower-cased names) and body."""

    path: str
    headers: dict
    body: bytes
    at: float


class Receiver:
    """A running receiver on 127.0.0.1; ``url`` is where to point a webhook."""

    def __init__(self, default=None):
        """Start serving on a free port."""
        self.default = default or Answer()
        self.answers = []
        self.deliveries = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            """Keep the request, answer as scripted."""

            def do_POST(self):  # noqa: N802  (http.server's name)
                """Keep the delivery; answer it."""
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.deliveries.append(Delivery(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                        body, time.time()))
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, format, *args):
                """Stay quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        """The receiver's URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def of_type(self, event_type):
        """Return the deliveries of one event type."""
        import json  # pylint: disable=import-outside-toplevel

        return [delivery for delivery in list(self.deliveries) if json.loads(delivery.body)["type"] == event_type]

    def wait_for(self, count, timeout=30, event_type=None):
        """Wait until ``count`` deliveries (of ``event_type``) came; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of_type(event_type) if event_type else list(self.deliveries)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"Timed out after {timeout} s waiting for {count} webhook deliveries "
                             f"({event_type or 'any type'}); {len(self.deliveries)} came.")

    def close(self):
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
