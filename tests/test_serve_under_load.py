"""``make run``'s server under load: 50 registrations at once, each answered 200, then Ctrl-C stops it."""

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing

import pytest

from devlms.gunicorn import ROOT, free_port, wait_until_listening

CLIENTS = 50
# What the Makefile's run target runs, in order; the last command serves.
MIGRATE = ("migrate", "--noinput", "-v", "0")
SEED = ("devlms_seed",)
SERVE = ("devlms_serve",)  # then 127.0.0.1:$(PORT)


class MakeRunServer:
    """The development LMS started as ``make run`` starts it, over a fresh sqlite database in ``var_dir``."""

    def __init__(self, var_dir):
        self.port = free_port()
        self.var_dir = var_dir
        self.log_path = var_dir / "server.log"
        self.env = {name: value for name, value in os.environ.items()
                    if not name.startswith(("DATABASE_URL", "EMAIL_", "DEVLMS_"))}
        self.env.update(DJANGO_SETTINGS_MODULE="devlms.settings", DEVLMS_VAR_DIR=str(var_dir), PORT=str(self.port))
        self.manage(*MIGRATE)
        seeded = self.manage(*SEED)
        self.tokens = dict(re.findall(r"Site (\S+)\n  admin: \S+\n  token: (\w+)", seeded))
        with open(self.log_path, "wb") as log:
            # Its own process group, which Ctrl-C in a terminal signals as a whole.
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "manage.py", *SERVE, f"127.0.0.1:{self.port}"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_until_listening(self.process, self.port, self.log, timeout=30)

    def manage(self, *args):
        """Run a management command as the Makefile does; return its output."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True, timeout=120).stdout

    def log(self):
        """Return what the server printed so far (stdout and stderr: the terminal of ``make run``)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_once(self, check, timeout=10):
        """Return the log once ``check(log)`` holds (gunicorn logs a request after answering it), else the last."""
        deadline = time.monotonic() + timeout
        while not check(log := self.log()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return log

    def post(self, host, body):
        """POST a registration as the site's admin; return the status, or the error that replaced the answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", "/tahoe/api/v1/registrations/", json.dumps(body), {
                "Host": host, "Authorization": f"Token {self.tokens[host]}", "Content-Type": "application/json",
            })
            response = conn.getresponse()
            response.read()
            return response.status
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()

    def ctrl_c(self):
        """Send SIGINT to the server's process group, as Ctrl-C does; return its exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(15)

    def kill(self):
        """Stop whatever is left of the server."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def count_users(self, prefix):
        """Count the users whose username starts with ``prefix``, in the server's database."""
        with closing(sqlite3.connect(self.var_dir / "devlms.sqlite3")) as database:
            query = "SELECT COUNT(*) FROM auth_user WHERE username LIKE ?"
            return database.execute(query, (f"{prefix}%",)).fetchone()[0]


@pytest.fixture
def server(tmp_path):
    """The development LMS as ``make run`` serves it, on a free port, over a migrated and seeded sqlite database."""
    started = MakeRunServer(tmp_path)
    yield started
    started.kill()


def post_all_at_once(server, bodies):
    """POST ``[(host, body), ...]`` from one thread each, released together; return the outcomes in order."""
    barrier = threading.Barrier(len(bodies))
    outcomes = [None] * len(bodies)

    def send(index, host, body):
        barrier.wait()
        outcomes[index] = server.post(host, body)

    threads = [threading.Thread(target=send, args=(i, host, body)) for i, (host, body) in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return outcomes


def test_50_clients_registering_at_once_all_get_200_and_ctrl_c_stops_the_server(server):
    hosts = sorted(server.tokens)
    assert hosts == ["alpha.localhost", "beta.localhost"]
    outcomes = post_all_at_once(server, [
        (hosts[i % 2], {"username": f"crowd{i}", "email": f"crowd{i}@example.com", "name": f"Crowd {i}"})
        for i in range(CLIENTS)
    ])

    assert Counter(outcomes) == {200: CLIENTS}, f"{Counter(outcomes)}\n{server.log()[-3000:]}"
    assert server.count_users("crowd") == CLIENTS

    def logged_and_mailed(log):
        """Each request logged and each learner's "set your password" email printed, as runserver showed them."""
        return (log.count('"POST /tahoe/api/v1/registrations/ HTTP/1.1" 200') == CLIENTS
                and all(f"To: crowd{i}@example.com\n" in log for i in range(CLIENTS)))

    log = server.log_once(logged_and_mailed)
    assert logged_and_mailed(log), log[-3000:]

    assert server.ctrl_c() == 0
    assert "Traceback" not in server.log()
