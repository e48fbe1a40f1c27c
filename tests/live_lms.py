"""The development LMS under gunicorn (several worker processes), serving the test database."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict, host=None, port=None):
    """The DATABASE_URL of the test database (optionally through another host and port)."""
    return "mysql://{user}:{password}@{host}:{port}/{name}".format(
        user=quote(settings_dict["USER"]), password=quote(settings_dict["PASSWORD"]),
        host=host or settings_dict["HOST"], port=port or settings_dict["PORT"], name=settings_dict["NAME"],
    )


class LiveLms:
    """A gunicorn server of ``devlms.wsgi`` with the test settings, on a free port."""

    def __init__(self, workers=4, db_url=None, extra_env=None):
        self.port = free_port()
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": db_url or database_url(connection.settings_dict),
            "PYTHONPATH": str(ROOT),
            # Tests recreate sites and organizations under the server's feet: no caching there.
            "DEVLMS_SITE_CACHE": "0",
            "DEVLMS_CACHE_TIMEOUT": "0",
        })
        env.update(extra_env or {})
        self.log = open(os.environ.get("LIVE_LMS_LOG", os.devnull), "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "gunicorn", "devlms.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--timeout", "60", "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=self.log, stderr=self.log,
        )
        self._wait_until_up()

    def _wait_until_up(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn exited at start") from None
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def post(self, host, token, body, timeout=60):
        """POST a registration; return (status, parsed JSON body or None, raw body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", "/tahoe/api/v1/registrations/", json.dumps(body), {
                "Host": host, "Authorization": f"Token {token}", "Content-Type": "application/json",
            })
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return response.status, parsed, raw

    def post_all_at_once(self, requests):
        """Send ``[(host, token, body), ...]`` in parallel, released together; return the results in order."""
        barrier = threading.Barrier(len(requests))
        results = [None] * len(requests)

        def send(index, request):
            barrier.wait()
            results[index] = self.post(*request)

        threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        return results

    def stop(self):
        """Stop gunicorn."""
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
