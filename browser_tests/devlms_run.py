"""The development LMS as ``make run`` serves it: migrated, seeded, then ``devlms_serve``, on a free port."""

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from devlms.gunicorn import ROOT, free_port

SIGN_IN_LINE = re.compile(r"sign in as (?P<username>\S+) with the development-only password (?P<password>\S+) "
                          r"at http://(?P<domain>[^/\s]+)/")


class DevLms:
    """``manage.py migrate``, ``devlms_seed`` and ``devlms_serve`` with a fresh database in ``var_dir``."""

    def __init__(self, var_dir):
        """Seed a new database in ``var_dir``, then serve it; ``admins`` maps each site to its sign-in."""
        self.port = free_port()
        self.env = {**os.environ, "DEVLMS_VAR_DIR": str(var_dir), "PORT": str(self.port),
                    "DJANGO_SETTINGS_MODULE": "devlms.settings"}
        self.env.pop("DATABASE_URL", None)
        self.manage("migrate", "--noinput", "-v", "0")
        seeded = self.manage("devlms_seed")
        self.admins = {m["domain"]: (m["username"], m["password"]) for m in SIGN_IN_LINE.finditer(seeded)}
        self.log = open(Path(var_dir) / "devlms.log", "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "manage.py", "devlms_serve", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_until_serving()

    def manage(self, *args):
        """Run a management command of the development LMS; return its output."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def _wait_until_serving(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"devlms_serve exited at start (status {self.process.returncode})")
            try:
                self.request("GET", "alpha.localhost", "/login")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("devlms_serve did not start in time")

    def request(self, method, host, path, headers=None, body=None):
        """Send one request as a plain HTTP client with ``Host: host``; return (status, body text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, {"Host": host, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def stop(self):
        """Stop the server and close its log."""
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()
