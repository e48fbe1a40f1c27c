"""
A real Celery worker of the LMS, on a real broker (a throwaway Redis server), for the platform suite.

The worker is ``celery -A lms.celery worker``, the command an LMS's workers run, with the suite's
settings (``lms_settings``) in worker mode: the test's database file, the broker, and outgoing
mail written to files that the test reads. Inside ``queued_to``, the test process queues tasks to
that broker instead of running them eagerly as ``lms.envs.test`` does.
"""

import email
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

HERE = Path(__file__).resolve().parent


def die_at(where):
    """
    In a worker's process: exit (``os._exit``) at ``where`` = "POINT:USERNAME".

    POINT is "before-hand-over" (the learner's registration committed, its email not handed over:
    a job's learner), "before-send" (the outbox claimed the learner's email, and has not sent it)
    or "after-send" (the mail is written, not yet marked sent). Set up once the worker is ready.
    """
    from celery.signals import worker_ready  # pylint: disable=import-outside-toplevel

    point, username = where.split(":", 1)

    def patch(**kwargs):  # pylint: disable=unused-argument
        from django.contrib.auth import get_user_model  # pylint: disable=import-outside-toplevel

        from tahoe_registration_api import outbox  # pylint: disable=import-outside-toplevel
        from tahoe_registration_api.models import OutboxMessage  # pylint: disable=import-outside-toplevel

        real_send, real_hand_over = outbox.send_email, outbox.hand_over

        def hand_over(message_ids, *args, **kwargs):
            if point == "before-hand-over" and OutboxMessage.objects.filter(
                    pk__in=message_ids, user_id__in=get_user_model().objects.filter(username=username)).exists():
                os._exit(9)  # pylint: disable=protected-access
            real_hand_over(message_ids, *args, **kwargs)

        def send(user_id, *args):
            doomed = get_user_model().objects.filter(pk=user_id, username=username).exists()
            if doomed and point == "before-send":
                os._exit(9)  # pylint: disable=protected-access
            real_send(user_id, *args)
            if doomed and point == "after-send":
                os._exit(9)  # pylint: disable=protected-access

        outbox.send_email = send
        outbox.hand_over = hand_over

    worker_ready.connect(patch, weak=False)


def free_port():
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout, what):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")


@contextmanager
def redis_server(directory):
    """Run a throwaway Redis server (Debian's ``redis-server``) on a free port; yield its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )

    def answers():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        wait_for(answers, 20, "redis-server to answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


class Worker:
    """A running ``celery -A lms.celery worker`` process and the mail it sent."""

    def __init__(self, broker_url, mail_dir, log_path, env=None, extra_env=None,  # pylint: disable=too-many-arguments
                 name="tahoe-tests", queues=None, wait=True):
        """
        Start the worker on ``broker_url`` (``env``: default, the suite's worker-mode settings + ``extra_env``).

        ``name`` makes its node name (two workers on one broker need two); ``queues`` (a list) the
        only queues it consumes. It fetches one message at a time, as the LMS's production settings say.
        ``wait``: return once it is ready (else call ``wait_ready``: several workers start at once).
        """
        self.broker_url = broker_url
        self.mail_dir = Path(mail_dir)
        self.log_path = Path(log_path)
        if env is None:
            env = dict(os.environ)
            env.update({
                "DJANGO_SETTINGS_MODULE": "lms_settings",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH", "")])),
                "TAHOE_PLATFORM_WORKER_BROKER": broker_url,
                "TAHOE_PLATFORM_WORKER_DB": str(connection.settings_dict["NAME"]),
                "TAHOE_PLATFORM_WORKER_MAIL_DIR": str(self.mail_dir),
            })
            env.update(extra_env or {})
        self.log = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "celery", "-A", "lms.celery", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", f"{name}@%h",
             "--prefetch-multiplier", "1", *(["--queues", ",".join(queues)] if queues else [])],
            cwd=os.getcwd(), env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Wait until the worker is ready to take tasks."""
        wait_for(self._ready, 120, f"the Celery worker to be ready (log: {self.log_path})")

    def _ready(self):
        """Whether the worker said it is ready; fail at once if it died."""
        if self.process.poll() is not None:
            raise AssertionError(f"The Celery worker exited ({self.process.returncode}):\n{self.log_text()}")
        return " ready." in self.log_text()

    def log_text(self):
        """The worker's output so far."""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def messages(self):
        """Every email the worker sent so far, parsed."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for raw in path.read_text(encoding="utf-8").split("-" * 79 + "\n"):
                if raw.strip():
                    found.append(email.message_from_string(raw))
        return found

    def wait_for_messages(self, count, timeout=60, recipients=None):
        """Wait until the worker sent ``count`` emails; return them. ``recipients``: who should have one (to report)."""
        try:
            return wait_for(lambda: len(self.messages()) >= count and self.messages(), timeout,
                            f"{count} email(s) from the worker")
        except AssertionError as exc:
            sent = [message["To"] for message in self.messages()]
            missing = sorted(set(recipients or ()) - set(sent))
            tail = "\n".join(self.log_text().splitlines()[-20:])
            raise AssertionError(
                f"{exc} It sent {len(sent)}; nothing was sent to {missing[:20]}. The worker's log ends:\n{tail}"
            ) from None

    def kill(self):
        """Kill the worker at once (SIGKILL), as a machine or container that dies: no warm shutdown."""
        self.process.kill()
        self.process.wait(10)
        self.log.close()

    def stop(self, signalled=False):
        """Stop the worker (warm shutdown, then by force); ``signalled``: its warm shutdown was asked already."""
        if not signalled:
            self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


@contextmanager
def queued_to(broker_url):
    """Make this process queue tasks to ``broker_url`` (not run them eagerly) inside the block."""
    from lms.celery import APP  # pylint: disable=import-outside-toplevel

    # pylint: disable=protected-access  # the app caches its broker connections and producers
    kept = {"task_always_eager": APP.conf.task_always_eager, "broker_url": APP.conf.broker_url}
    kept_pools = (APP._pool, APP.amqp._producer_pool)
    APP._pool = APP.amqp._producer_pool = None
    APP.conf.task_always_eager = False
    APP.conf.broker_url = broker_url
    try:
        yield
    finally:
        # kombu keeps the broker's pool for the next block on the same broker (never closed here).
        APP._pool, APP.amqp._producer_pool = kept_pools
        APP.conf.update(kept)


@contextmanager
def celery_worker(extra_env=None, broker_url=None, mail_dir=None):
    """
    A Redis broker and a worker of the LMS on it; yield the ``Worker`` (``queued_to`` its broker_url).

    Given ``broker_url`` (and ``mail_dir``), a new worker joins that broker instead: the next worker
    after one that died.
    """
    if broker_url is None:
        with celery_workers([None], extra_env=extra_env) as (worker,):
            yield worker
        return
    with tempfile.TemporaryDirectory(prefix="tahoe-worker-") as directory:
        worker = Worker(broker_url, mail_dir, Path(directory) / "worker.log", extra_env=extra_env)
        try:
            yield worker
        finally:
            worker.stop()


@contextmanager
def celery_workers(queues, extra_env=None):
    """
    A Redis broker and several workers of the LMS on it, started at once; yield them (a list).

    ``queues``: one list per worker, the queues it consumes (None: the LMS's default queue). They
    share one mail directory: each ``Worker.messages()`` is every email any of them sent.
    """
    with tempfile.TemporaryDirectory(prefix="tahoe-workers-") as directory:
        directory = Path(directory)
        (directory / "mail").mkdir()
        with redis_server(directory) as url:
            workers = []
            try:
                for number, consumed in enumerate(queues, start=1):
                    workers.append(Worker(url, directory / "mail", directory / f"worker-{number}.log", wait=False,
                                          extra_env=extra_env, name=f"tahoe-tests-{number}", queues=consumed))
                for worker in workers:
                    worker.wait_ready()
                yield workers
            finally:
                stop_all(workers)


def stop_all(workers):
    """Stop the workers, their warm shutdowns at once (each takes seconds)."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.terminate()
    for worker in workers:
        worker.stop(signalled=True)
