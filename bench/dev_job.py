"""
A registration job on the development LMS as ``make run`` serves it: its seconds and learners per second.

Run ``.venv/bin/python bench/dev_job.py`` (``make bench`` runs it too; ``--rows N``, default 10,000).
It does what ``make run`` does, in a throwaway ``DEVLMS_VAR_DIR`` and on a free port: ``manage.py
migrate``, ``manage.py devlms_seed``, then ``DEVLMS_CELERY_WORKER=1 DEVLMS_WEBHOOKS_LOCAL=1 manage.py
devlms_serve`` (gunicorn, and the Celery worker it starts beside it on a broker of files; sqlite,
unless ``DATABASE_URL`` names another database, as for ``make run``). It takes the alpha site's
admin token from ``devlms_seed``'s printout (docs/quickstart.rst), posts a job of one learner and
waits for it (so the worker is up and has run a task), then posts a CSV of ``--rows`` passwordless
learners to ``/tahoe/api/v1/registration-jobs/`` and reads the job's status every
``POLL_SECONDS`` until it is done. The clock runs from the POST to the status read ``done``.

The worker also sends the learners' emails (printed, as ``make run`` prints them, into the
server's log), from the same queue: what ``make run`` does. Prints the figures and writes
``bench/results/dev-job.json``; exits 1 if the job did not register every learner.
"""

import argparse
import csv
import http.client
import io
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "dev-job.json"
JOBS_PATH = "/tahoe/api/v1/registration-jobs/"
HOST = "alpha.localhost"
POLL_SECONDS = 0.5
NAME = "Dev Job Learner"


def say(message=""):
    """Print a progress or result line at once."""
    print(message, flush=True)


def free_port():
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def learners_csv(prefix, rows):
    """Return the bytes of a CSV of ``rows`` passwordless learners named from ``prefix``."""
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(["username", "email", "name", "ref"])
    for number in range(rows):
        username = f"{prefix}{number}"
        writer.writerow([username, f"{username}@example.com", NAME, f"ref-{number}"])
    return stream.getvalue().encode("utf-8")


def manage(env, *args):
    """Run ``manage.py ARGS`` as ``make run`` does (this Python, from the checkout); return its output."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def admin_token(seed_output):
    """Return the alpha site's admin token from ``devlms_seed``'s printout."""
    found = re.search(rf"Site {re.escape(HOST)}\n\s+admin: \S+\n\s+token: (\w+)", seed_output)
    if not found:
        sys.exit(f"devlms_seed printed no token for {HOST}:\n{seed_output}")
    return found.group(1)


class Server:
    """``manage.py devlms_serve`` with its Celery worker, in a session of its own (stopped with it)."""

    def __init__(self, env, port, log_path):
        """Start it, its output (requests, printed emails) to ``log_path``; wait until it accepts connections."""
        self.port = port
        self.log_path = log_path
        self.log = open(log_path, "wb")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "manage.py", "devlms_serve", f"127.0.0.1:{port}"], cwd=ROOT,
            env=dict(env, DEVLMS_CELERY_WORKER="1", DEVLMS_WEBHOOKS_LOCAL="1"),
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not self._accepts():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"the development LMS did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def _accepts(self):
        """Whether the server accepts a connection."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def log_tail(self, lines=30):
        """Return the last lines of the server's output."""
        self.log.flush()
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def emails_printed(self):
        """Count the emails printed so far (the console backend's ``To:`` lines)."""
        self.log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return sum(1 for line in text.splitlines() if line.startswith("To: "))

    def stop(self):
        """Stop gunicorn (its exit stops the worker it started); then end whatever is left of its session."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the session this script started (the worker, if left)
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(5)
        self.log.close()


class Api:
    """The plugin's API on the development LMS, as the alpha site's admin."""

    def __init__(self, port, token):
        """Keep a connection to the server."""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = {"Host": HOST, "Authorization": f"Token {token}"}

    def call(self, method, path, body=None, content_type=None):
        """Make a call; return its status and its JSON answer."""
        headers = dict(self.headers, **({"Content-Type": content_type} if content_type else {}))
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, {"raw": raw[:500].decode("utf-8", errors="replace")}

    def post_job(self, csv_bytes):
        """Post a CSV job; return its id (exit if refused)."""
        status, body = self.call("POST", JOBS_PATH, csv_bytes, "text/csv")
        if status != 202:
            sys.exit(f"the job was refused: {status} {body}")
        return body["job_id"]

    def wait_for(self, job_id, timeout, progress=None):
        """Read the job's status every ``POLL_SECONDS`` until it is finished (or ``timeout``); return the last body."""
        deadline = time.perf_counter() + timeout
        next_progress = time.perf_counter() + 15
        while True:
            status, body = self.call("GET", f"{JOBS_PATH}{job_id}/")
            if status != 200:
                sys.exit(f"reading the job failed: {status} {body}")
            if body["status"] in ("done", "failed") or time.perf_counter() > deadline:
                return body
            if progress and time.perf_counter() >= next_progress:
                progress(f"  ... {body['processed']} of {body['total']} rows processed")
                next_progress += 15
            time.sleep(POLL_SECONDS)


def _seconds_between(start, end):
    """Seconds between two of the API's timestamps (ISO 8601, ``Z``); None if either is missing."""
    from datetime import datetime  # pylint: disable=import-outside-toplevel

    if not start or not end:
        return None
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def run(rows, timeout, var_dir):
    """Start the development LMS in ``var_dir``, run the job of ``rows`` learners; return the figures."""
    port = free_port()
    env = dict(os.environ, DEVLMS_VAR_DIR=str(var_dir), PORT=str(port))
    database = "MariaDB/MySQL (DATABASE_URL)" if env.get("DATABASE_URL", "").startswith("mysql") else "sqlite"
    say(f"dev job: the development LMS as `make run` starts it ({database}, var dir {var_dir}, port {port}) ...")
    began = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v", "0")
    token = admin_token(manage(env, "devlms_seed"))
    server = Server(env, port, var_dir / "server.log")
    try:
        api = Api(port, token)
        prefix = "dj" + secrets.token_hex(3)
        say(f"  up in {time.perf_counter() - began:.0f} s; a job of one learner first (the worker's first task) ...")
        warm = api.wait_for(api.post_job(learners_csv(prefix + "w", 1)), 120)
        if warm["status"] != "done":
            sys.exit(f"the first job did not finish in 120 s: {warm}\n{server.log_tail()}")
        say(f"  done; the job of {rows} passwordless learners (POST {JOBS_PATH}, CSV) ...")
        body = learners_csv(prefix + "x", rows)
        started = time.perf_counter()
        job_id = api.post_job(body)
        accepted = time.perf_counter()
        final = api.wait_for(job_id, timeout, say)
        seconds = time.perf_counter() - started
        emails = server.emails_printed()
    finally:
        server.stop()
    return {
        "rows": rows, "database": database, "job_id": job_id, "status": final["status"],
        "created": final["created"], "failed": final["failed"], "processed": final["processed"],
        "seconds": seconds, "learners_per_second": rows / seconds, "post_seconds": accepted - started,
        "server_seconds_created_to_finished": _seconds_between(final["created_at"], final["finished_at"]),
        "server_seconds_started_to_finished": _seconds_between(final["started_at"], final["finished_at"]),
        "csv_bytes": len(body), "emails_printed_when_done": emails,
        "machine": {"logical_cores": os.cpu_count(), "python": platform.python_version(),
                    "kernel": platform.platform()},
        "command": "manage.py migrate; manage.py devlms_seed; DEVLMS_CELERY_WORKER=1 DEVLMS_WEBHOOKS_LOCAL=1 "
                   "manage.py devlms_serve (gunicorn 1 process x 8 threads, Celery worker --pool=solo)",
    }


def main():
    """Run the job, print and save its figures; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="learners in the job (default 10,000)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the job (default 900)")
    parser.add_argument("--keep", action="store_true", help="keep the var dir (database, server log)")
    options = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="tahoe-dev-job-"))
    try:
        figures = run(options.rows, options.timeout, var_dir)
    finally:
        if options.keep:
            say(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    say(f"dev job: {figures['rows']} passwordless learners, {figures['status']}, {figures['created']} created, "
        f"{figures['failed']} failed: {figures['seconds']:.1f} s from the POST to the status done, "
        f"{figures['learners_per_second']:.1f} learners/s (the POST answered in {figures['post_seconds']:.1f} s; "
        f"the job's own timestamps: {figures['server_seconds_created_to_finished'] or 0:.1f} s from created to "
        f"finished); {figures['emails_printed_when_done']} emails printed by then")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    say(f"Wrote {RESULTS}")
    return 0 if figures["status"] == "done" and figures["created"] == figures["rows"] else 1


if __name__ == "__main__":
    sys.exit(main())
