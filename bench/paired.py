"""
Paired A/B: the same import calls, alternated between two checkouts of the plugin, for the rate of each.

    make bench-paired BASE=/path/to/another/checkout [WHERE=dev|lms] [ROUNDS=8]

This machine's speed wanders by a third within minutes, so two benches run one after the other
cannot tell 5% apart. Here two worker processes, one per checkout, each on its own throwaway
MariaDB, take turns on the same call (A then B, then B then A in the next round), after one
call of each kind on each side that is not measured (imports, caches, pools): a slow minute
slows both sides of a pair. The ratio of each pair (B's rate over A's, B being this checkout) is
reported with their median and geometric mean, and the same for the workers' CPU time.

``WHERE=dev`` runs the development LMS in-process with each checkout's own ``.venv`` (the calls:
a bulk call through the test client, ``tahoe_import_learners --concurrency 2``, a job's task).
``WHERE=lms`` runs both inside the real LMS of this checkout's ``.platform/`` (built by ``make
test-platform``), the plugin imported from each checkout's source. Emails are queued, not sent.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
KINDS = {"dev": "bulk:500,command:1000,job:1000", "lms": "bulk:300,job:500,command:500"}


def worker_command(tree, where):
    """Return the command and working directory of a worker on checkout ``tree``."""
    mariadb = str(HERE / "scripts" / "mariadb.sh")
    if where == "lms":
        return [mariadb, str(HERE / ".platform" / "venv" / "bin" / "python"), __file__, "--worker", where], \
            HERE / ".platform" / "src"
    return [mariadb, str(Path(tree) / ".venv" / "bin" / "python"), __file__, "--worker", where], Path(tree)


def start(tree, where, log_dir):
    """Start the worker of checkout ``tree``; return its process once it is ready."""
    command, cwd = worker_command(tree, where)
    log = (Path(log_dir) / f"{Path(tree).name}.log").open("w", encoding="utf-8")
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        command, cwd=cwd, env=dict(os.environ, BENCH_PAIRED_TREE=str(tree)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    ready = process.stdout.readline()
    if not ready.startswith("ready"):
        sys.exit(f"the worker of {tree} did not start (see {log.name})")
    print(f"{tree}: {ready.strip()}", flush=True)
    return process


def call(process, kind, tag, count):
    """Have a worker run one call; return its wall and CPU seconds."""
    process.stdin.write(f"{kind} {tag} {count}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def report(kind, count, base, this):
    """Print the pairs' ratios of one kind of call; return them."""
    rates = [b["wall"] / t["wall"] for b, t in zip(base, this)]  # this checkout's rate over the base's
    cpu = [b["cpu"] / t["cpu"] for b, t in zip(base, this)]
    figures = {
        "learners_per_call": count, "pairs": len(rates),
        "base_rate_median": statistics.median(count / b["wall"] for b in base),
        "this_rate_median": statistics.median(count / t["wall"] for t in this),
        "rate_ratio_median": statistics.median(rates), "rate_ratio_geomean": statistics.geometric_mean(rates),
        "rate_ratios": rates, "cpu_ratio_median": statistics.median(cpu),
    }
    print(f"{kind} x{count}: base {figures['base_rate_median']:.1f}/s, this {figures['this_rate_median']:.1f}/s; "
          f"this/base rate per pair: median {figures['rate_ratio_median']:.3f}, geomean "
          f"{figures['rate_ratio_geomean']:.3f} [{min(rates):.2f} .. {max(rates):.2f}]; CPU (rate) median "
          f"{figures['cpu_ratio_median']:.3f}", flush=True)
    return figures


def drive(base, where, rounds, kinds):
    """Alternate the calls between the two checkouts' workers; print and return the ratios."""
    kinds = [(name, int(count)) for name, count in (kind.split(":") for kind in kinds.split(","))]
    log_dir = tempfile.mkdtemp(prefix="tahoe-bench-paired-logs-")  # kept: the workers' logs
    workers = {"base": start(base, where, log_dir), "this": start(HERE, where, log_dir)}
    runs = {name: {"base": [], "this": []} for name, _ in kinds}
    try:
        for name, count in kinds:  # a warm-up of each kind on each side, not measured (imports, caches, pools)
            for side, process in workers.items():
                call(process, name, f"{name[0]}w{side[0]}", count)
        for number in range(rounds):
            for name, count in kinds:
                for side in ("base", "this") if number % 2 == 0 else ("this", "base"):
                    runs[name][side].append(call(workers[side], name, f"{name[0]}{number}{side[0]}", count))
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait()
    return {name: report(name, count, runs[name]["base"], runs[name]["this"]) for name, count in kinds}


class Worker:
    """One side: the plugin of ``BENCH_PAIRED_TREE``, a seeded site, and the three calls."""

    def __init__(self, where):
        """Set up Django (the development LMS, or the real LMS) on this worker's MariaDB, and seed it."""
        tree = Path(os.environ["BENCH_PAIRED_TREE"])
        here = Path(__file__).resolve().parent  # bench/ of the driving checkout: its modules are not top-level ones
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
        self._redis = None
        self.directory = Path(tempfile.mkdtemp(prefix="tahoe-bench-paired-"))
        if where == "lms":
            self._set_up_lms(tree)
        else:
            self._set_up_dev(tree)
        # pylint: disable=import-outside-toplevel
        from django.contrib.auth import get_user_model
        from django.contrib.sites.models import Site
        from django.test import Client
        from tahoe_sites.api import get_organization_by_site

        import tahoe_registration_api

        self.origin = tahoe_registration_api.__file__
        if not Path(self.origin).resolve().is_relative_to(tree.resolve()):
            sys.exit(f"the plugin came from {self.origin}, not from {tree}")
        self.site = Site.objects.get(domain=self.host)
        self.organization = get_organization_by_site(self.site)
        self.caller = get_user_model().objects.get(username="alpha_admin")
        self.client = Client()

    def _set_up_dev(self, tree):
        """Set up the development LMS of ``tree`` (this process runs ``tree``'s own virtualenv)."""
        # pylint: disable=import-outside-toplevel
        os.environ.update({"DJANGO_SETTINGS_MODULE": "devlms.settings", "DEVLMS_VAR_DIR": str(self.directory),
                           "DEVLMS_RATE": "off", "DEVLMS_CELERY_WORKER": "1"})
        sys.path.insert(0, str(tree))
        import io
        import logging

        import django
        django.setup()
        logging.disable(logging.WARNING)
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token
        call_command("migrate", verbosity=0, interactive=False)
        call_command("devlms_seed", stdout=io.StringIO())
        self.host, self.token = "alpha.localhost", Token.objects.get(user__username="alpha_admin").key

    def _set_up_lms(self, tree):
        """Set up the real LMS, the plugin imported from ``tree`` before the installed one."""
        # pylint: disable=import-outside-toplevel
        import importlib.util
        import logging

        spec = importlib.util.spec_from_file_location("bench_platform_run", tree / "bench" / "platform_run.py")
        platform_run = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(platform_run)  # the LMS's settings and paths, as make bench-platform sets them
        sys.path.insert(0, str(tree))
        from worker import redis_server  # pylint: disable=import-error  # platform_tests/, on platform_run's path
        self._redis = redis_server(self.directory)  # the broker the emails' tasks are queued to
        os.environ["BENCH_BROKER_URL"] = self._redis.__enter__()  # pylint: disable=unnecessary-dunder-call
        import django
        django.setup()
        logging.disable(logging.WARNING)
        platform_run.create_schema()
        sites, _ = platform_run.seed()
        self.host, self.token = sites[0]

    def bulk(self, tag, count):
        """Post one bulk call of ``count`` passwordless learners through the test client (emails queued)."""
        from bench import imports  # pylint: disable=import-outside-toplevel

        learners = [{"username": f"{tag}x{n}", "email": f"{tag}x{n}@example.com", "name": "Paired Learner"}
                    for n in range(count)]
        with imports.queued_emails():
            response = self.client.post("/tahoe/api/v1/registrations/bulk/", json.dumps({"learners": learners}),
                                        content_type="application/json", HTTP_HOST=self.host,
                                        HTTP_AUTHORIZATION=f"Token {self.token}")
        if response.status_code != 200 or json.loads(response.content)["created"] != count:
            sys.exit(f"a bulk call failed: {response.status_code} {response.content[:300]!r}")

    def command(self, tag, count):
        """Import ``count`` learners with ``tahoe_import_learners --concurrency 2``."""
        from bench import imports  # pylint: disable=import-outside-toplevel

        figures = imports.import_by_command(self.directory, self.host, tag, count, 2)
        if figures["created"] != count:
            sys.exit(f"the import created {figures['created']} of {count}")

    def job(self, tag, count):
        """Run a job of ``count`` learners, its task here."""
        from bench import imports  # pylint: disable=import-outside-toplevel

        figures = imports.import_by_job(self.directory, self.site, self.organization, self.caller, tag, count)
        if figures["created"] != count:
            sys.exit(f"the job created {figures['created']} of {count}")

    def serve(self):
        """Answer each ``KIND TAG COUNT`` line of stdin with the call's wall and CPU seconds."""
        print("ready", self.origin, flush=True)
        for line in sys.stdin:
            kind, tag, count = line.split()
            wall, cpu = time.perf_counter(), time.process_time()
            getattr(self, kind)(tag, int(count))
            print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}), flush=True)
        if self._redis is not None:
            self._redis.__exit__(None, None, None)


def main():
    """Drive the pairs (or, with ``--worker``, be one side); return the exit status."""
    if sys.argv[1:2] == ["--worker"]:
        Worker(sys.argv[2]).serve()
        return 0
    base = os.environ.get("BASE")
    where = os.environ.get("WHERE", "dev")
    if not base or where not in KINDS:
        sys.exit("usage: make bench-paired BASE=/path/to/another/checkout [WHERE=dev|lms] [ROUNDS=8]")
    rounds = int(os.environ.get("ROUNDS", "8"))
    figures = drive(Path(base).resolve(), where, rounds, os.environ.get("KINDS", KINDS[where]))
    out = HERE / "bench" / "results" / f"paired-{where}.json"
    out.write_text(json.dumps({"base": str(base), "where": where, "rounds": rounds, "calls": figures},
                              indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
