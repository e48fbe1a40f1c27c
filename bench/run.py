"""
``make bench``: registrations over HTTP against the development LMS on MariaDB, compared with their floors.

Run through ``scripts/mariadb.sh`` (which provides ``DATABASE_URL``). In order: migrate and seed
the database; measure the floors in this process (the PBKDF2 hasher alone, on one core and in
two processes; the same rows written directly through the ORM in one transaction; the cost of
a new database connection); start ``gunicorn devlms.wsgi`` with the metrics middleware; post
registrations with and without password at concurrency 1, 4 and 16; profile passwordless
registrations in-process with pyinstrument; print the table, the targets and the profile, and
write ``bench/results/latest.json``, ``latest.png`` and ``profile.txt``. Targets are reported,
never asserted; failed requests are reported loudly (and make the exit status 1).
"""

import io
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
import django  # noqa: E402
import psutil  # noqa: E402

from bench import floors as floor_bench  # noqa: E402
from bench import imports, profiling, report  # noqa: E402
from bench.enrollments import measure_enrollment_calls, usernames_of_bulk_call  # noqa: E402
from bench.load import FLOWS, Registrations, plugin_request, run_load  # noqa: E402
from bench.server import CpuMeter, Gunicorn, mariadb_process, metrics_delta, read_metrics  # noqa: E402
from bench.stats import latency_summary  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
CONCURRENCY_LEVELS = (1, 4, 16)
MEASURE_SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = {"passwordless": 1.0, "password": 1.5}
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WORKERS_REASON = (
    "4 sync workers on 2 cores: a registration waits on MariaDB for a good part of its time (about 14 "
    "round trips: a new connection, 12 statements, the commit), so 2 workers would leave the cores idle "
    "during those waits; "
    "4 (2 per core) overlap them, while more would only add memory and context switches, and the "
    "CPU-bound PBKDF2 hashes cannot go faster than 2 at a time anyway."
)
ORM_FLOOR_COUNTS = {"passwordless": 300, "password": 10}
PROFILE_COUNT = 200
PROFILE_TREE_LINES = 30
PROFILE_PRINT_LINES = 80
TIME_LIMIT_SECONDS = 480
IMPORT_COUNT = 10_000  # passwordless learners imported by the command, then by a job
IMPORT_CONCURRENCY = 2  # the command's --concurrency: 2 threads on 2 cores (a registration mostly waits on MariaDB)
IMPORT_TARGET_SECONDS = 60
BULK_CALLS, BULK_SIZE = 10, 500
# The first site's courses (devlms_seed's; the LMS bench makes the same with the platform's factories).
COURSE_KEYS = ("course-v1:alpha+Intro+2026", "course-v1:alpha+Data+2026")
SITES = (("alpha.localhost", "alpha"), ("beta.localhost", "beta"))
# What the plugin logs (INFO, to the server's log) when it retries a registration's transaction.
RETRY_LOG_LINES = {"deadlock": "Registration deadlocked", "unique": "Registration hit a unique constraint"}


def say(message=""):
    """Print a progress or result line at once."""
    print(message, flush=True)


def prepare_django(var_dir):
    """Point this process at devlms.settings and the bench's MariaDB (no metrics middleware here), and set up."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "devlms.settings"
    os.environ["DEVLMS_VAR_DIR"] = str(var_dir)
    os.environ["DEVLMS_RATE"] = "off"
    os.environ.pop("DEVLMS_METRICS_DIR", None)
    django.setup()


def migrate_and_seed():
    """Migrate, seed the two sites, and return [(host, admin token)] and the first site's organization."""
    # pylint: disable=import-outside-toplevel
    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token
    from tahoe_sites.api import get_organization_by_site

    call_command("migrate", verbosity=0, interactive=False)
    call_command("devlms_seed", stdout=io.StringIO())
    sites = [(domain, Token.objects.get(user__username=f"{short}_admin").key) for domain, short in SITES]
    organization = get_organization_by_site(Site.objects.get(domain=SITES[0][0]))
    return sites, organization


def machine_info():
    """Describe the machine: CPU model, cores, memory, Python, Django, gunicorn and MariaDB versions."""
    # pylint: disable=import-outside-toplevel
    import gunicorn
    from django.db import connection

    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        mariadb_version = cursor.fetchone()[0]
    return {
        "cpu_model": cpu_model,
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 1024 ** 3, 1),
        "kernel": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "mariadb": mariadb_version,
    }


def measure_floors(prefix, organization):
    """Measure the hasher and direct-ORM floors and the cost of a new connection."""
    say("floors: hasher alone (1 core, then 2 processes) ...")
    results = {"hasher_before_http": floor_bench.hasher_floor()}
    hasher = results["hasher_before_http"]
    say(f"  {hasher['hasher']} ({hasher['iterations']} iterations): {hasher['single_core_ms_per_hash']:.0f} ms/hash; "
        f"{hasher['single_core_per_second']:.2f}/s on 1 core, {hasher['parallel_per_second']:.2f}/s in 2 processes")
    for flow in FLOWS:
        say(f"floors: direct ORM, {flow} ({ORM_FLOOR_COUNTS[flow]} registrations in one transaction each) ...")
        floor = floor_bench.orm_floor(prefix, organization, flow == "password", ORM_FLOOR_COUNTS[flow])
        results[f"orm_{flow}"] = floor
        say(f"  {floor['registrations_per_second']:.1f} reg/s, p50 {floor['p50_ms']:.2f} ms, "
            f"p95 {floor['p95_ms']:.2f} ms, {floor['queries_per_registration']:.1f} statements/registration")
    results["connect"] = floor_bench.connect_cost()
    say(f"floors: a new MariaDB connection takes p50 {results['connect']['p50_ms']:.2f} ms")
    return results


def server_environment(var_dir, metrics_dir, log_dir):
    """Return the gunicorn server's environment."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "devlms.settings",
        "DEVLMS_VAR_DIR": str(var_dir),
        "DEVLMS_RATE": "off",
        "DEVLMS_METRICS_DIR": str(metrics_dir),
        # The emails' tasks are queued (to a broker of files no worker reads), not sent in the request:
        # as in the LMS, whose Celery workers send them.
        "DEVLMS_CELERY_WORKER": "1",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(log_dir),
    })
    return env


def count_users():
    """Return how many users the database holds (the conflict checks' cost may grow with it)."""
    from django.contrib.auth import get_user_model  # pylint: disable=import-outside-toplevel

    return get_user_model().objects.count()


# pylint: disable-next=too-many-locals
def measure_configuration(context, flow, concurrency, request_for=plugin_request, seconds=None):
    """Warm up, then measure ``flow`` at ``concurrency`` (requests made by ``request_for``); return the figures."""
    server, sites, registrations, metrics_dir, cpu_meter = context
    users_at_start = count_users()
    warmup = run_load(server.port, sites, registrations, flow, concurrency, WARMUP_SECONDS[flow], request_for)
    before = read_metrics(metrics_dir)
    log_start = server.log_size()
    cpu_meter.begin()
    result = run_load(server.port, sites, registrations, flow, concurrency, seconds or MEASURE_SECONDS, request_for)
    cpu = cpu_meter.end()
    delta = metrics_delta(before, read_metrics(metrics_dir))
    retries = server.count_in_log(log_start, RETRY_LOG_LINES.values())
    requests = delta["requests"] or 1
    rss = delta["max_rss_bytes_by_pid"].values()
    completed = result.ok + result.failures
    return {
        "flow": flow,
        "concurrency": concurrency,
        "seconds": result.elapsed,
        "users_in_database": {"at_start": users_at_start, "at_end": count_users()},
        "requests": completed,
        "ok": result.ok,
        "failures": result.failures,
        "warmup_requests": warmup.ok + warmup.failures,
        "warmup_failures": warmup.failures,
        "statuses": result.statuses,
        "failure_samples": result.failure_samples + warmup.failure_samples,
        "registrations_per_second": result.ok / result.elapsed,
        "latency": latency_summary(result.latencies),
        "server": {
            "requests_counted": delta["requests"],
            "queries_per_registration": delta["queries"] / requests,
            "queries_excluding_transaction_control_per_registration":
                delta["queries_excluding_transaction_control"] / requests,
            "hashes_per_registration": delta["hashes"] / requests,
            "emails_in_request_per_registration": delta["emails"] / requests,
            "peak_rss_mb_max_worker": max(rss) / report.MB if rss else None,
            "peak_rss_mb_by_worker": {pid: value / report.MB for pid, value in delta["max_rss_bytes_by_pid"].items()},
        },
        "cpu": {
            "workers_ms_per_registration": 1000 * cpu["workers"] / max(completed, 1),
            "mariadb_ms_per_registration": 1000 * cpu["mariadb"] / max(completed, 1),
            "load_generator_ms_per_registration": 1000 * cpu["load_generator"] / max(completed, 1),
            "machine_busy_fraction": cpu["machine_busy_fraction"],
            "other_processes_fraction": cpu["other_processes_fraction"],
        },
        "retries": {name: retries[line] for name, line in RETRY_LOG_LINES.items()},
    }


def add_ratios(configs, floors):
    """Add each configuration's ratios to the floors."""
    for config in configs:
        orm = floors[f"orm_{config['flow']}"]
        config["ratios"] = {
            "throughput_vs_orm_floor":
                report.ratio(config["registrations_per_second"], orm["registrations_per_second"]),
            "p50_vs_orm_floor_p50": report.ratio(config["latency"]["p50_ms"], orm["p50_ms"]),
            "throughput_vs_hasher_2_processes": None,
        }
        if config["flow"] == "password":
            config["ratios"]["throughput_vs_hasher_2_processes"] = report.ratio(
                config["registrations_per_second"], floors["hasher"]["parallel_per_second"])


def run_http(env, log_path, metrics_dir, sites, prefix, database_url):
    """Start gunicorn, warm every worker, measure each flow at each concurrency; return the configurations."""
    say(f"gunicorn: starting {WORKERS} sync workers (log: {log_path}) ...")
    server = Gunicorn(WORKERS, env, log_path)
    try:
        registrations = Registrations(prefix)
        cpu_meter = CpuMeter(server, mariadb_process(database_url))
        say(f"gunicorn: up on 127.0.0.1:{server.port}, workers {[p.pid for p in server.worker_processes()]}; "
            "warming every worker up ...")
        run_load(server.port, sites, registrations, "passwordless", 8, 2.0)
        run_load(server.port, sites, registrations, "password", 4, 2.0)
        context = (server, sites, registrations, metrics_dir, cpu_meter)
        configs = []
        for flow in FLOWS:
            for concurrency in CONCURRENCY_LEVELS:
                config = measure_configuration(context, flow, concurrency)
                configs.append(config)
                say(f"  {flow:12} c={concurrency:<2}: {config['registrations_per_second']:7.1f} reg/s, "
                    f"p50 {config['latency']['p50_ms'] or 0:8.1f} ms, {config['ok']} ok, "
                    f"{config['failures']} failed")
        if any(config["failures"] or config["warmup_failures"] for config in configs):
            say("gunicorn log tail:\n" + server.log_tail())
        say(f"bulk: {BULK_CALLS} calls of {BULK_SIZE} passwordless learners, one after the other ...")
        bulk = imports.measure_bulk(server, sites[0], metrics_dir, prefix, cpu_meter, BULK_CALLS, BULK_SIZE, say)
        say(f"enrollments: the last bulk call's {BULK_SIZE} learners enrolled in each of {len(COURSE_KEYS)} courses, "
            "one call per course ...")
        cohort = usernames_of_bulk_call(prefix + "k", BULK_CALLS - 1, BULK_SIZE)
        bulk["enrollment_calls"] = measure_enrollment_calls(server.port, sites[0], metrics_dir, cohort, COURSE_KEYS,
                                                            say)
    finally:
        server.stop()
    return configs, bulk


def remeasure_hasher(floors):
    """Measure the hasher again after the HTTP phases; its floor becomes the mean of both (the machine drifts)."""
    say("floors: hasher alone again, after the HTTP phases ...")
    before, after = floors["hasher_before_http"], floor_bench.hasher_floor()
    floors["hasher_after_http"] = after
    hasher = dict(before)
    for name in ("single_core_per_second", "parallel_per_second"):
        hasher[name] = (before[name] + after[name]) / 2
    hasher["single_core_ms_per_hash"] = 1000 / hasher["single_core_per_second"]
    hasher["note"] = "mean of the measurements before and after the HTTP phases"
    hasher["drift"] = max(abs(before[name] - after[name]) / hasher[name]
                          for name in ("single_core_per_second", "parallel_per_second"))
    floors["hasher"] = hasher
    say(f"  {after['single_core_per_second']:.2f}/s on 1 core, {after['parallel_per_second']:.2f}/s in 2 processes "
        f"(before: {before['single_core_per_second']:.2f}/s, {before['parallel_per_second']:.2f}/s)")


def print_and_save(results, profile_text, started):
    """Print the report, and write the JSON, the chart and the profile."""
    configs, floors, targets = results["configurations"], results["floors"], results["targets"]
    machine = results["machine"]
    say()
    say("=" * 100)
    say(f"Machine: {machine['cpu_model']}, {machine['logical_cores']} logical cores "
        f"({machine['physical_cores']} physical), {machine['memory_gb']} GB; Python {machine['python']}, "
        f"Django {machine['django']}, gunicorn {machine['gunicorn']}, MariaDB {machine['mariadb']}")
    say(f"Server: gunicorn devlms.wsgi, {WORKERS} sync workers. {WORKERS_REASON}")
    hasher = floors["hasher"]
    say(f"Floors: hasher {hasher['algorithm']} x{hasher['iterations']}: {hasher['single_core_per_second']:.2f}/s "
        f"(1 core), {hasher['parallel_per_second']:.2f}/s (2 processes; mean of before/after the HTTP phases, "
        f"which differ by up to {100 * hasher['drift']:.0f}%) | direct ORM: passwordless "
        f"{floors['orm_passwordless']['registrations_per_second']:.1f} reg/s p50 "
        f"{floors['orm_passwordless']['p50_ms']:.2f} ms; password "
        f"{floors['orm_password']['registrations_per_second']:.2f} reg/s p50 {floors['orm_password']['p50_ms']:.1f} ms"
        f" | new DB connection p50 {floors['connect']['p50_ms']:.2f} ms")
    say(f"Each configuration: {MEASURE_SECONDS:g} s measured after a warm-up; latency per request from the client;"
        " q = SQL statements through Django cursors (q-tx: without SAVEPOINT/RELEASE; the MySQL backend begins and "
        "commits through the driver), per registration; x:ORM and x:hash2p are ratios to the floors.")
    say()
    for line in report.format_table(configs):
        say(line)
    say()
    say("Where the CPU went (per registration) and what else ran; retries = the plugin's logged transaction retries:")
    for line in report.format_table(configs, report.DIAGNOSTIC_COLUMNS):
        say(line)
    noisy = [f"{c['flow']} c={c['concurrency']}" for c in configs if c["cpu"]["other_processes_fraction"] > 0.10]
    if noisy:
        say(f"WARNING: other processes used over 10% of the CPU during {', '.join(noisy)}: those figures are noisy.")
    if hasher["drift"] > 0.15:
        say(f"WARNING: the hasher's speed changed by {100 * hasher['drift']:.0f}% between before and after "
            "the HTTP phases (the machine's speed drifts): the ratios to the hasher are uncertain by that much.")
    uncounted = [f"{c['flow']} c={c['concurrency']}" for c in configs
                 if c["server"]["requests_counted"] != c["ok"] + c["failures"]]
    if uncounted:
        say(f"WARNING: the workers' metric files did not count every request in {', '.join(uncounted)}: "
            "the per-registration queries, hashes and memory there are off.")
    failed = report.say_failures(configs, say)
    say()
    say("Targets (reported, not asserted):")
    for target in targets:
        say(report.format_target(target))
        for line in report.explain(target, configs, floors, results["profile"]):
            say(line)
    for line in report.format_imports(results["imports"], configs):
        say(line)
    say()
    for line in profile_text[:PROFILE_PRINT_LINES]:
        say(line)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    report.draw_chart(configs, floors, RESULTS_DIR / "latest.png")
    results["total_seconds"] = time.perf_counter() - started
    (RESULTS_DIR / "latest.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    say()
    say(f"Wrote {RESULTS_DIR / 'latest.json'}, {RESULTS_DIR / 'latest.png'}, {RESULTS_DIR / 'profile.txt'}")
    verdict = "within" if results["total_seconds"] < TIME_LIMIT_SECONDS else "OVER"
    say(f"Total time: {results['total_seconds']:.1f} s ({verdict} the {TIME_LIMIT_SECONDS} s budget)")
    return failed


def main():
    """Run the whole bench; return the exit status (1 when any request failed)."""
    started = time.perf_counter()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("mysql"):
        say("bench/run.py needs DATABASE_URL of a MariaDB: run it through `make bench` (scripts/mariadb.sh).")
        return 2
    with tempfile.TemporaryDirectory(prefix="tahoe-bench-") as temporary:
        temporary = Path(temporary)
        var_dir, metrics_dir = temporary / "var", temporary / "metrics"
        var_dir.mkdir()
        metrics_dir.mkdir()
        prepare_django(var_dir)
        from django.db import connections  # pylint: disable=import-outside-toplevel

        say("database: migrate and seed ...")
        sites, organization = migrate_and_seed()
        machine = machine_info()
        prefix = "b" + secrets.token_hex(3)
        floors = measure_floors(prefix, organization)
        say(f"profile: {PROFILE_COUNT} passwordless registrations in-process under pyinstrument ...")
        summary, tree, flat, profile = profiling.profile_passwordless(sites, prefix + "x", count=PROFILE_COUNT)
        profile["users_in_database_at_end"] = count_users()
        connections.close_all()
        configs, bulk = run_http(server_environment(var_dir, metrics_dir, temporary), temporary / "gunicorn.log",
                                 metrics_dir, sites, prefix, database_url)
        remeasure_hasher(floors)
        bulk_imports = imports.measure_imports(temporary, prefix, IMPORT_COUNT, IMPORT_CONCURRENCY,
                                               SITES[0][0], f"{SITES[0][1]}_admin", say)
        bulk_imports.update({"bulk_calls": bulk, "target_seconds": IMPORT_TARGET_SECONDS})
        tree_lines = [line for line in tree.splitlines() if line.strip()]
        flat_lines = [line for line in flat.splitlines() if line.strip()]
        profile_text = summary + ["", "Call tree (pyinstrument, library frames hidden), top:"]
        profile_text += tree_lines[:PROFILE_TREE_LINES] + [f"  ... (whole tree in {RESULTS_DIR / 'profile.txt'})"]
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / "profile.txt").write_text(
            "\n".join(summary + ["", "Call tree (pyinstrument, library frames hidden):"] + tree_lines
                      + ["", "Flat (self time per function):"] + flat_lines) + "\n",
            encoding="utf-8",
        )
        add_ratios(configs, floors)
        results = {
            "machine": machine,
            "server": {"command": f"gunicorn devlms.wsgi --workers {WORKERS} --worker-class sync",
                       "workers": WORKERS, "why": WORKERS_REASON, "measure_seconds": MEASURE_SECONDS,
                       "warmup_seconds": WARMUP_SECONDS},
            "floors": floors,
            "configurations": configs,
            "profile": profile,
            "imports": bulk_imports,
        }
        results["targets"] = report.evaluate_targets(configs, floors)
        failed = print_and_save(results, profile_text, started)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
