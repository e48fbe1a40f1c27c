"""The development LMS under gunicorn, on a free port: what the concurrency tests and the bench serve."""

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(process, port, output, timeout, interval=0.1):
    """Wait until ``process`` accepts connections on ``port``; fail with its ``output()`` if it exits or is late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited before it listened:\n{output()}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(interval)
    raise AssertionError(f"the server did not listen within {timeout} s:\n{output()}")


class DevLmsServer:
    """``gunicorn devlms.wsgi`` with sync workers; started on construction, ready when ``is_ready`` says so."""

    # pylint: disable-next=too-many-arguments
    def __init__(self, workers, env, log, timeout=60, app="devlms.wsgi", cwd=ROOT):
        """Start gunicorn serving ``app`` (from ``cwd``) with ``workers`` workers and ``env``, its output to ``log``."""
        self.workers = workers
        self.app = app
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            self.command(), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self._wait_until_ready(timeout)

    def command(self):
        """Return the server's command line: gunicorn serving the app on the port with sync workers."""
        return [sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "120",
                "--graceful-timeout", "5", "--log-level", "warning"]

    def is_ready(self):
        """Whether the server accepts connections (subclasses may ask more)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start (status {self.process.returncode})")
            if self.is_ready():
                return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start in time")

    def stop(self):
        """Stop gunicorn (gracefully, then by force) and close its log."""
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()
