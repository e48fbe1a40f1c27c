"""The HTTP load: N threads, each posting registrations back to back over its own stdlib connection."""

import http.client
import itertools
import json
import threading
import time

PATH = "/tahoe/api/v1/registrations/"
PASSWORD = "Velvet-Tromb0ne-Quarry"  # passes the devlms password validators, unlike the usernames
NAME = "Bench Learner"
FLOWS = ("passwordless", "password")
FLOW_TAGS = {"passwordless": "n", "password": "p"}  # in usernames, so the two flows never collide


class Registrations:
    """Unique registration bodies: a run prefix and a counter make every username and email new."""

    def __init__(self, prefix):
        """Start the counter (``next`` on ``itertools.count`` is atomic under the GIL)."""
        self.prefix = prefix
        self.counter = itertools.count()

    def next_body(self, flow):
        """Return the next body of ``flow`` (``passwordless`` or ``password``) and its number."""
        number = next(self.counter)
        username = f"{self.prefix}{FLOW_TAGS[flow]}{number}"
        body = {"username": username, "email": f"{username}@example.com", "name": NAME}
        if flow == "password":
            body["password"] = PASSWORD
        return number, body


class LoadResult:
    """What a phase measured: each request's latency and status, and the failures' first answers."""

    def __init__(self):
        """Start empty."""
        self.lock = threading.Lock()
        self.latencies = []
        self.statuses = {}
        self.failure_samples = []
        self.started = None
        self.finished = None

    def record(self, latency, status, raw):
        """Record one request."""
        with self.lock:
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if status == 200:
                self.latencies.append(latency)
            elif len(self.failure_samples) < 5:
                self.failure_samples.append(f"{status}: {raw[:300]!r}")

    @property
    def ok(self):
        """Count the 200 answers."""
        return self.statuses.get("200", 0)

    @property
    def failures(self):
        """Count the answers other than 200 (and the requests that got no answer)."""
        return sum(count for status, count in self.statuses.items() if status != "200")

    @property
    def elapsed(self):
        """Seconds from the common start to the last answer."""
        return self.finished - self.started


def plugin_request(host, token, body):
    """Make the plugin's registration: JSON, with the site admin's token. Returns (path, payload, headers)."""
    return PATH, json.dumps(body), {"Host": host, "Authorization": f"Token {token}", "Content-Type": "application/json"}


def _post(connection, path, payload, headers):
    """POST one registration; return (status, raw body); a broken connection is an error status."""
    try:
        connection.request("POST", path, payload, headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # http.client reconnects on the next request
        return type(exc).__name__, b""


# pylint: disable-next=too-many-arguments
def run_load(port, sites, registrations, flow, concurrency, duration, request_for=plugin_request):
    """
    Post ``flow`` registrations from ``concurrency`` threads for ``duration`` seconds; return a ``LoadResult``.

    Each thread keeps one ``http.client`` connection (kept alive when the server allows it;
    gunicorn's sync workers close it after each answer, and http.client reopens it). A thread
    sends its next request as soon as the previous one answered; requests in flight at the
    deadline are waited for and counted. ``sites`` is a list of (Host, admin token), used in turn;
    ``request_for(host, token, body)`` makes each request (default: the plugin's).
    """
    result = LoadResult()
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            number, body = registrations.next_body(flow)
            host, token = sites[number % len(sites)]
            path, payload, headers = request_for(host, token, body)
            start = time.perf_counter()
            status, raw = _post(connection, path, payload, headers)
            result.record(time.perf_counter() - start, status, raw)
        connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    result.started = time.perf_counter()
    deadline[0] = result.started + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    result.finished = time.perf_counter()
    return result
