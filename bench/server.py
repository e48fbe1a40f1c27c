"""The development LMS under gunicorn for the bench, its metric files, and CPU accounting of the processes."""

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import psutil

from devlms.gunicorn import DevLmsServer


class Gunicorn(DevLmsServer):
    """The development LMS under gunicorn, ready once every worker has booted; its log kept for the bench."""

    def __init__(self, workers, env, log_path, **options):
        """Start the server on a free port and wait until every worker has booted (``options``: app, cwd, timeout)."""
        self.log_path = log_path
        super().__init__(workers, env, open(log_path, "ab"), **options)  # pylint: disable=consider-using-with

    def is_ready(self):
        """Whether it accepts connections and all its workers are up."""
        return super().is_ready() and len(self.worker_processes()) >= self.workers

    def worker_processes(self):
        """Return the worker processes (children of the gunicorn master)."""
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def log_size(self):
        """Return the log's size in bytes so far (the start of a phase's segment)."""
        self.log.flush()
        return os.path.getsize(self.log_path)

    def count_in_log(self, since, needles):
        """Count, per needle, the log lines after byte ``since`` that contain it."""
        self.log.flush()
        with open(self.log_path, "rb") as stream:
            stream.seek(since)
            text = stream.read().decode("utf-8", errors="replace")
        return {needle: text.count(needle) for needle in needles}

    def log_tail(self, lines=30):
        """Return the last lines of the server's log."""
        self.log.flush()
        text = Path(self.log_path).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def read_metrics(directory):
    """Return ``{pid: counters}`` from the metric files that the workers wrote."""
    metrics = {}
    for path in Path(directory).glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a file being replaced right now; os.replace makes this rare
        metrics[data["pid"]] = data
    return metrics


COUNTER_NAMES = ("requests", "queries", "queries_excluding_transaction_control", "hashes", "emails")


def metrics_delta(before, after):
    """Sum, over every worker, the counters' growth between two ``read_metrics`` results; keep peak memory."""
    total = dict.fromkeys(COUNTER_NAMES, 0)
    for pid, counters in after.items():
        previous = before.get(pid, {})
        for name in COUNTER_NAMES:
            total[name] += counters.get(name, 0) - previous.get(name, 0)
    total["max_rss_bytes_by_pid"] = {str(pid): counters["max_rss_bytes"] for pid, counters in after.items()}
    return total


def mariadb_process(database_url):
    """Return the MariaDB server process listening on the port of ``database_url`` (None if not found)."""
    port = urlparse(database_url).port
    for process in psutil.process_iter(["name", "cmdline"]):
        name = process.info["name"] or ""
        cmdline = process.info["cmdline"] or []
        if name in ("mariadbd", "mysqld") and f"--port={port}" in cmdline:
            return process
    return None


def cpu_seconds(processes, children=False):
    """
    Return the user+system CPU seconds ``processes`` (psutil; None ones skipped) used so far, gone ones 0.

    ``children``: their children's too (a Celery worker's pool); never for the bench's own process,
    whose children are the servers it started.
    """
    total = 0.0
    for process in processes:
        if process is None:
            continue
        try:
            family = [process, *(process.children(recursive=True) if children else [])]
        except psutil.Error:
            continue
        for member in family:
            try:
                times = member.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


class CpuMeter:
    """CPU seconds used by the gunicorn workers, MariaDB and the load generator (this process) in a phase."""

    def __init__(self, server, database):
        """Know which processes to measure."""
        self.server = server
        self.database = database
        self.me = psutil.Process()
        self.start = None

    def _sample(self):
        """Return CPU seconds so far per component, with the machine's busy and total CPU seconds."""
        machine = psutil.cpu_times()
        idle = machine.idle + getattr(machine, "iowait", 0.0)
        try:
            master = [psutil.Process(self.server.process.pid)]
        except psutil.NoSuchProcess:
            master = []
        return {
            "workers": cpu_seconds(self.server.worker_processes()),
            "gunicorn_master": cpu_seconds(master),
            "mariadb": cpu_seconds([self.database]),
            "load_generator": cpu_seconds([self.me]),
            "machine_busy": sum(machine) - idle,
            "machine_total": sum(machine),
        }

    def begin(self):
        """Start a phase."""
        self.start = self._sample()

    def end(self):
        """
        Return the CPU seconds of each component since ``begin``, and the machine's busy fraction.

        ``other_processes_fraction`` is the share of the machine's CPU that none of the bench's
        processes used: anything else running on the machine, which makes the figures noisy.
        """
        end = self._sample()
        used = {name: value - self.start[name] for name, value in end.items()}
        total = used.pop("machine_total")
        busy = used.pop("machine_busy")
        ours = used["workers"] + used["gunicorn_master"] + used["mariadb"] + used["load_generator"]
        used["machine_busy_fraction"] = busy / total if total else 0.0
        used["other_processes_fraction"] = max(0.0, busy - ours) / total if total else 0.0
        return used
