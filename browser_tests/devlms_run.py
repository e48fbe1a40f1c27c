"""The development LMS as ``make run`` serves it: migrated, seeded, then ``devlms_serve``, on a free port."""

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

from devlms.gunicorn import ROOT, DevLmsServer

SIGN_IN_LINE = re.compile(r"sign in as (?P<username>\S+) with the development-only password (?P<password>\S+) "
                          r"at http://(?P<domain>[^/\s]+)/")


class DevLms(DevLmsServer):
    """
    ``manage.py migrate``, ``devlms_seed`` and ``devlms_serve`` with a fresh database in ``var_dir``.

    As ``make run``, webhooks may be posted to ``http://`` and loopback addresses (the test's
    receivers); the outbox's tasks run in the web process, after the commit.
    """

    def __init__(self, var_dir):
        """Seed a new database in ``var_dir``, then serve it; ``admins`` maps each site to its sign-in."""
        self.env = {**os.environ, "DEVLMS_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "devlms.settings",
                    "DEVLMS_WEBHOOKS_LOCAL": "1"}
        self.env.pop("DATABASE_URL", None)
        self.manage("migrate", "--noinput", "-v", "0")
        seeded = self.manage("devlms_seed")  # what `make run` prints
        self.admins = {m["domain"]: (m["username"], m["password"]) for m in SIGN_IN_LINE.finditer(seeded)}
        log = open(Path(var_dir) / "devlms.log", "ab")  # pylint: disable=consider-using-with
        super().__init__(workers=1, env=self.env, log=log)

    def command(self):
        """Return ``make run``'s server command line, on the free port."""
        return [sys.executable, "manage.py", "devlms_serve", f"127.0.0.1:{self.port}"]

    def manage(self, *args):
        """Run a management command of the development LMS; return its output."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def request(self, method, host, path, headers=None, body=None):
        """Send one request as a plain HTTP client with ``Host: host``; return (status, body text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, {"Host": host, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()
