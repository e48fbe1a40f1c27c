"""``devlms_serve``: serve the development LMS under gunicorn (what ``make run`` starts)."""

import atexit
import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from gunicorn.app.base import BaseApplication

# One worker process with 8 threads (gthread), on 2 cores. A registration's CPU time is mostly its
# password hash (PBKDF2 releases the GIL: one process's threads use both cores) and sqlite takes one
# writer at a time, so more processes register no faster (measured: 50 at once with passwords, 13 s
# as 1 process of 8 threads or 2 of 4). One process keeps runserver's single locmem cache: the rate
# limit counts each caller exactly. Threads rather than sync workers: an idle keep-alive connection
# or a slow SMTP server does not take the only worker. Eight bound the transactions in flight: a
# writer waits behind at most seven (under 2 s), far below sqlite's 20 s busy timeout (settings
# OPTIONS); the other clients wait in gunicorn's queue and the listen backlog (2048; runserver's 10
# overflowed into "Connection reset by peer").
WORKERS = 1
THREADS = 8


class DevLmsApplication(BaseApplication):  # pylint: disable=abstract-method
    """gunicorn configured from a dict instead of its command line (so no ``init``), serving ``devlms.wsgi``."""

    def __init__(self, options):
        """Keep the gunicorn ``options`` that ``load_config`` applies."""
        self.options = options
        super().__init__()

    def load_config(self):
        """Apply the options this gunicorn knows to its configuration (Teak pins 23, which lacks some)."""
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self):
        """Return the WSGI application (gunicorn calls this in the worker)."""
        from devlms.wsgi import application  # pylint: disable=import-outside-toplevel

        return application


class Command(BaseCommand):
    """Serve the development LMS under gunicorn until Ctrl-C, logging requests and printing mail."""

    help = "Serve the development LMS under gunicorn on ADDRESS (default 127.0.0.1:$PORT, PORT default 8000)."

    def add_arguments(self, parser):
        """Take the address to bind, as runserver does."""
        parser.add_argument("address", nargs="?", default=f"127.0.0.1:{os.environ.get('PORT', '8000')}")

    def handle(self, *args, **options):
        """Print where it serves, then run gunicorn in the foreground."""
        address = options["address"]
        if connection.vendor == "sqlite":
            # In WAL mode a committing writer waits for no reader. In the default (rollback journal) mode,
            # a writer that began as a reader can meet another one committing: sqlite answers
            # "database is locked" at once, not after the timeout, and the plugin retries (measured: 0 to
            # 2 in 100 registrations at once; none in WAL mode). The mode stays in the file.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=WAL")
            connection.close()  # the worker opens its own, after the fork
        # The worker inherits stdout: line by line, console mail and request logs reach a pipe at once,
        # and nothing written here stays in a buffer that the fork would copy.
        sys.stdout.reconfigure(line_buffering=True)
        self.stdout.write(
            f"\nServing the development LMS at http://{address}/ "
            f"(gunicorn, {WORKERS} worker process with {THREADS} threads). Quit the server with CONTROL-C.\n"
        )
        self._start_celery_worker()
        DevLmsApplication({
            "bind": address,
            "workers": WORKERS,
            "worker_class": "gthread",
            "threads": THREADS,
            "backlog": 2048,
            "graceful_timeout": 5,
            "accesslog": "-",  # stdout, in runserver's shape
            "access_log_format": '%(t)s "%(r)s" %(s)s %(b)s',
            # gunicorn 25 and later: else ~/.gunicorn/gunicorn.ctl, shared with any other gunicorn
            "control_socket_disable": True,
        }).run()

    def _start_celery_worker(self):
        """With DEVLMS_CELERY_WORKER=1 (``make run``), start a Celery worker beside the server; say where tasks run."""
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("Background tasks (emails, registration jobs) run eagerly, in the web process.\n")
            return
        worker = subprocess.Popen([  # pylint: disable=consider-using-with
            sys.executable, "-m", "celery", "-A", "devlms.celery", "worker", "--pool=solo", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ])
        atexit.register(worker.terminate)
        self.stdout.write(
            "Background tasks (emails, registration jobs) run on a Celery worker beside the server "
            f"(pid {worker.pid}), "
            f"through a broker of files in {settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']}.\n"
        )
