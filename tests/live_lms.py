"""The development LMS under gunicorn (several worker processes), serving the test database."""

import http.client
import json
import os
import threading
from urllib.parse import quote

from django.db import connection

from devlms.gunicorn import ROOT, DevLmsServer


def database_url(settings_dict, host=None, port=None):
    """The DATABASE_URL of the test database (optionally through another host and port)."""
    return "mysql://{user}:{password}@{host}:{port}/{name}".format(
        user=quote(settings_dict["USER"]), password=quote(settings_dict["PASSWORD"]),
        host=host or settings_dict["HOST"], port=port or settings_dict["PORT"], name=settings_dict["NAME"],
    )


class LiveLms(DevLmsServer):
    """The development LMS under gunicorn with the test settings, serving the test database."""

    def __init__(self, workers=4, db_url=None, extra_env=None):
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
        log = open(os.environ.get("LIVE_LMS_LOG", os.devnull), "ab")  # pylint: disable=consider-using-with
        super().__init__(workers, env, log)

    def post(self, host, token, body, headers=None, timeout=60):
        """POST a registration (with extra ``headers``); return (status, parsed JSON body or None, raw body)."""
        return self.send("POST", "/tahoe/api/v1/registrations/", host, token, body, headers, timeout)

    def send(self, method, path, host, token, body, headers=None, timeout=60):  # pylint: disable=too-many-arguments
        """Send a JSON ``body`` to ``path``; return (status, parsed JSON body or None, raw body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, json.dumps(body), {
                "Host": host, "Authorization": f"Token {token}", "Content-Type": "application/json",
                **(headers or {}),
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
        """Send ``[(host, token, body[, headers]), ...]`` in parallel, released together; return the results."""
        return self.send_all_at_once([("POST", "/tahoe/api/v1/registrations/", *request) for request in requests])

    def send_all_at_once(self, requests):
        """Send ``[(method, path, host, token, body[, headers]), ...]`` in parallel, released together."""
        barrier = threading.Barrier(len(requests))
        results = [None] * len(requests)

        def send(index, request):
            barrier.wait()
            results[index] = self.send(*request)

        threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        return results
