"""The platform bench's printout: the tables with their ratios, the targets, where the time goes, and the chart."""

import json
import time

from bench.enrollments import format_enrollments
from bench.report import plt, ratio, say_failures

TABLE_COLUMNS = (
    ("what", 13, "name"), ("flow", 12, "flow"), ("conc", 4, "concurrency"), ("ok", 4, "ok"),
    ("fail", 4, "failures"), ("reg/s", 6, "rps"), ("p50 ms", 7, "p50"), ("p95 ms", 7, "p95"),
    ("p99 ms", 7, "p99"), ("stmts", 5, "queries"), ("hash", 4, "hashes"), ("mail", 4, "emails"),
    ("wkr CPU", 7, "cpu_workers"), ("DB CPU", 6, "cpu_mariadb"), ("x view", 6, "vs_view"),
    ("p50:floor", 9, "p50_floor"), ("p50:hash", 8, "p50_hash"), ("rps:hash2p", 10, "rps_hash"),
)


def _number(value, digits=1):
    """Format a number for the table; a dash when missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def find(configs, name, flow, concurrency):
    """Return the configuration ``name``/``flow`` at ``concurrency`` (None if absent)."""
    return next((c for c in configs if (c["name"], c["flow"], c["concurrency"]) == (name, flow, concurrency)), None)


def add_ratios(configs, floors):
    """Add each configuration's ratios: to the platform's view, to the account-creation floor and to the hasher."""
    hasher = floors["hasher"]
    for config in configs:
        view = find(configs, "platform view", config["flow"], config["concurrency"])
        floor = floors[f"do_create_account_{config['flow']}"]
        config["ratios"] = {
            "throughput_vs_platform_view": ratio(config["registrations_per_second"],
                                                 view["registrations_per_second"] if view else None),
            "p50_vs_do_create_account_floor": ratio(config["latency"]["p50_ms"], floor["p50_ms"]),
            "p50_vs_one_hash": ratio(config["latency"]["p50_ms"], hasher["single_core_ms_per_hash"])
            if config["flow"] == "password" else None,
            "throughput_vs_hasher_2_processes": ratio(config["registrations_per_second"],
                                                      hasher["parallel_per_second"])
            if config["flow"] == "password" else None,
        }


def _cells(config):
    """Return the cells of one configuration's row."""
    server, cpu, ratios, latency = config["server"], config["cpu"], config["ratios"], config["latency"]
    return {
        "name": config["name"], "flow": config["flow"], "concurrency": str(config["concurrency"]),
        "ok": str(config["ok"]), "failures": str(config["failures"]),
        "rps": _number(config["registrations_per_second"], 2), "p50": _number(latency["p50_ms"]),
        "p95": _number(latency["p95_ms"]), "p99": _number(latency["p99_ms"]),
        "queries": _number(server["queries_per_registration"]), "hashes": _number(server["hashes_per_registration"]),
        "emails": _number(server["emails_in_request_per_registration"]),
        "cpu_workers": _number(cpu["workers_ms_per_registration"]),
        "cpu_mariadb": _number(cpu["mariadb_ms_per_registration"]),
        "vs_view": _number(ratios["throughput_vs_platform_view"], 2),
        "p50_floor": _number(ratios["p50_vs_do_create_account_floor"], 2),
        "p50_hash": _number(ratios["p50_vs_one_hash"], 2),
        "rps_hash": _number(ratios["throughput_vs_hasher_2_processes"], 2),
    }


def format_table(configs):
    """Return the table of the configurations as lines."""
    header = " ".join(title.rjust(width) for title, width, _ in TABLE_COLUMNS)
    lines = [header, "-" * len(header)]
    for config in configs:
        cells = _cells(config)
        lines.append(" ".join(cells[key].rjust(width) for _, width, key in TABLE_COLUMNS))
    return lines


def _target(name, text, measured, threshold, met, shown):
    """One target: what, the measured value and whether it is met (reported, never asserted)."""
    return {"name": name, "text": text, "measured": measured, "threshold": threshold, "met": bool(met),
            "shown": shown}


# Issue 23's targets (the rest are the earlier issues'): thresholds, each compared with this run's figures.
JOB_SECONDS, JOB_SPEEDUP = 90.0, 1.6
COMMAND_RATE, COMMAND_RATE_HIGH = 86.0, 96.0
PASSWORD_P50_PER_HASH, PASSWORDLESS_P50_PER_FLOOR = 1.10, 2.5
STATEMENTS_PER_LEARNER = 20.0
STATEMENT_COUNTER = "MariaDB's Questions counter (SHOW GLOBAL STATUS) / learners"


def job_runs(imports):
    """Return the job phase's runs by worker count: {1: figures, 2: figures}."""
    return {run["workers"]: run for run in (imports.get("jobs") or {}).get("runs", [])}


def _job_ok(run):
    """Whether a job run finished and registered every learner (else its rate means nothing)."""
    return bool(run) and run["status"] == "done" and run["created"] == run["learners"]


def evaluate_import_targets(imports):
    """Return issue 23's targets of many learners at once: the jobs on real workers, the command, the statements."""
    runs, command, bulk = job_runs(imports), imports["command"], imports["bulk_calls"]
    one, two = runs.get(1), runs.get(2)
    speedup = ratio(two["learners_per_second"], one["learners_per_second"]) if one and two else None
    statements = {"bulk": bulk["server_statements_per_learner"],
                  **{f"job, {n} worker{'s' if n > 1 else ''}": run["server_statements_per_learner"]
                     for n, run in runs.items()}}
    worst = max(statements.values())
    delivered = sum(run["outbox_tasks_run_by_job_workers"] for run in runs.values())
    rate = command["learners_per_second"]
    return [
        _target("job_2_workers_seconds", f"a job of {two['learners'] if two else '?'} passwordless learners on two "
                f"workers in under {JOB_SECONDS:.0f} s (from its creation to its status done)",
                two and two["seconds"], JOB_SECONDS, _job_ok(two) and two["seconds"] < JOB_SECONDS,
                f"{two['seconds']:.1f} s, {two['learners_per_second']:.1f} learners/s, {two['status']}, "
                f"{two['created']} created" if two else "not run"),
        _target("job_speedup", f"the job on two workers at least {JOB_SPEEDUP}x the rate of the same job on one "
                "(same run)", speedup, JOB_SPEEDUP, _job_ok(one) and _job_ok(two) and (speedup or 0) >= JOB_SPEEDUP,
                f"{_number(speedup, 2)}x ({_number(two and two['learners_per_second'])} against "
                f"{_number(one and one['learners_per_second'])} learners/s)"),
        _target("command_rate", f"tahoe_import_learners --concurrency {command['concurrency']} at least "
                f"{COMMAND_RATE:.0f}-{COMMAND_RATE_HIGH:.0f} learners/s (met from {COMMAND_RATE:.0f})", rate,
                COMMAND_RATE, rate >= COMMAND_RATE and command["created"] == command["learners"],
                f"{rate:.1f} learners/s ({'at or above' if rate >= COMMAND_RATE_HIGH else 'below'} "
                f"{COMMAND_RATE_HIGH:.0f}), {command['created']} of {command['learners']} created"),
        _target("statements_per_learner", f"at most {STATEMENTS_PER_LEARNER:.0f} statements per learner for bulk "
                f"calls and jobs ({STATEMENT_COUNTER}, everything included)", worst, STATEMENTS_PER_LEARNER,
                worst <= STATEMENTS_PER_LEARNER,
                "; ".join(f"{name} {value:.1f}" for name, value in statements.items())),
        _target("job_workers_no_outbox", "the job workers delivered no outbox message (the emails and events are "
                "on the default queue, for the email worker)", delivered, 0, bool(runs) and delivered == 0,
                f"{delivered} outbox tasks received by the job workers; "
                + ", ".join(f"{run['outbox_tasks_left_on_default_queue']} left on the default queue by the job on "
                            f"{n}" for n, run in runs.items())),
    ]


def p50_ratios(configs, floors):
    """Return the two latency ratios of issue 23: password p50 / one hash; passwordless p50 / the floor."""
    password = find(configs, "plugin", "password", 1)["latency"]["p50_ms"]
    passwordless = find(configs, "plugin", "passwordless", 1)["latency"]["p50_ms"]
    return {"password": ratio(password, floors["hasher"]["single_core_ms_per_hash"]),
            "passwordless": ratio(passwordless, floors["do_create_account_passwordless"]["p50_ms"])}


def evaluate_targets(configs, floors, profile, emails, imports=None):
    """Return the targets inside the LMS, each measured in this run: the earlier issues', then issue 23's."""
    hasher = floors["hasher"]
    passwordless_1 = find(configs, "plugin", "passwordless", 1)
    password_1 = find(configs, "plugin", "password", 1)
    password_4 = find(configs, "plugin", "password", 4)
    view_4 = find(configs, "platform view", "password", 4)
    p50 = passwordless_1["latency"]["p50_ms"]
    floor = floors["do_create_account_passwordless"]["p50_ms"]
    password_p50 = password_1["latency"]["p50_ms"]
    per_hash = ratio(password_p50, hasher["single_core_ms_per_hash"])
    tasks, succeeded = emails["plugin_email_tasks"], emails["plugin_email_tasks_succeeded"]
    share = ratio(password_4["registrations_per_second"], hasher["parallel_per_second"])
    multiple = ratio(password_4["registrations_per_second"], view_4["registrations_per_second"])
    in_request = max(c["server"]["emails_in_request_per_registration"] for c in configs if c["name"] == "plugin")
    statements = max(group["request_total"] for label, group in profile["statement_groups"].items()
                     if label.startswith("plugin"))
    return [
        _target("passwordless_p50", "plugin passwordless p50 at concurrency 1 <= 40 ms", p50, 40.0,
                p50 is not None and p50 <= 40.0, f"{_number(p50)} ms"),
        _target("passwordless_vs_floor", f"plugin passwordless p50 <= {PASSWORDLESS_P50_PER_FLOOR}x "
                f"do_create_account's (no hash: {floor:.1f} ms, same run)", ratio(p50, floor),
                PASSWORDLESS_P50_PER_FLOOR, (ratio(p50, floor) or 99) <= PASSWORDLESS_P50_PER_FLOOR,
                f"p50 {_number(p50)} ms = {_number(ratio(p50, floor), 2)}x"),
        _target("password_p50_vs_hash", f"plugin with a password p50 <= {PASSWORD_P50_PER_HASH:.2f}x one hash "
                f"({hasher['single_core_ms_per_hash']:.0f} ms, same run)", per_hash, PASSWORD_P50_PER_HASH,
                (per_hash or 99) <= PASSWORD_P50_PER_HASH, f"p50 {_number(password_p50)} ms = {_number(per_hash, 2)}x"),
        _target("password_c4_vs_hasher", f"plugin with a password at concurrency 4 >= 90% of the hasher alone on 2 "
                f"processes ({hasher['parallel_per_second']:.2f}/s)", share, 0.9, (share or 0) >= 0.9,
                f"{_number(password_4['registrations_per_second'], 2)}/s = {100 * (share or 0):.0f}%"),
        _target("password_vs_platform_view", "plugin with a password >= 5x the platform view's throughput "
                "(concurrency 4)", multiple, 5.0, (multiple or 0) >= 5.0, f"{_number(multiple, 2)}x"),
        _target("no_email_in_request", "no email sent inside the plugin's requests; a Celery worker sent them all",
                in_request, 0.0, in_request == 0 and 0 < tasks == succeeded,
                f"{in_request:.2f} per request in the web workers; the worker's email tasks: "
                f"{succeeded} of {tasks} succeeded"),
        _target("statements", "at most 30 statements for a 200 (whole request, grouped as the platform suite)",
                statements, 30, statements <= 30, f"{statements} statements"),
    ] + (evaluate_import_targets(imports) if imports else [])


def _explain_jobs(target, imports):
    """Say where a job's time goes, for a missed target of the job phase."""
    if target["name"] == "statements_per_learner":
        return ["    the counter takes in every statement: each learner's transaction control and SAVEPOINTs, "
                "the job's claims and marks, each bulk request's connection set-up; the statement groups of "
                "one registration (below) show what a learner's own cost."]
    lines = []
    for workers, run in sorted(job_runs(imports).items()):
        worker_cpu, database_cpu = run["workers_cpu_ms_per_learner"], run["mariadb_cpu_ms_per_learner"]
        # each worker (solo pool) uses at most one core; the workers and MariaDB share the machine's 2
        bound = min(1000 * workers / worker_cpu, 2000 / (worker_cpu + database_cpu))
        lines.append(
            f"    why ({workers} worker{'s' if workers > 1 else ''}): a learner cost {worker_cpu:.1f} ms of the "
            f"workers' CPU and {database_cpu:.1f} ms of MariaDB's: on CPU alone, at most {bound:.0f} learners/s on "
            f"this machine; it was {100 * (run['machine_busy_fraction'] or 0):.0f}% busy, "
            f"{100 * (run['other_processes_fraction'] or 0):.0f}% by processes not the bench's; job tasks run per "
            f"worker {[w['job_tasks_succeeded'] for w in run['by_worker']]}.")
    return lines


def _explain(target, configs, floors, profile, imports=None):
    """Say where the time goes for a missed target."""
    if target["met"]:
        return []
    if target["name"] in ("job_2_workers_seconds", "job_speedup", "statements_per_learner") and imports:
        return _explain_jobs(target, imports)
    if target["name"] == "command_rate":
        command = imports["command"]
        return [f"    why: the command's process used {_number(command.get('process_cpu_ms_per_learner'))} ms of "
                f"CPU per learner and MariaDB {_number(command.get('mariadb_cpu_ms_per_learner'))} ms, on 2 cores."]
    top = "; ".join(f"{name} {ms:.1f} ms" for name, ms in list(profile["ms_per_registration_by_category"].items())[:5])
    hasher = floors["hasher"]
    if target["name"] in ("passwordless_p50", "passwordless_vs_floor"):
        config = find(configs, "plugin", "passwordless", 1)
        return [f"    why: in-process (no HTTP) p50 {profile['unprofiled']['p50_ms']:.1f} ms; over HTTP "
                f"{config['latency']['p50_ms']:.1f} ms; the worker used "
                f"{config['cpu']['workers_ms_per_registration']:.1f} ms CPU and MariaDB "
                f"{config['cpu']['mariadb_ms_per_registration']:.1f} ms per registration.",
                f"    profile (per registration): {top}."]
    if target["name"] in ("password_p50_vs_hash", "password_c4_vs_hasher"):
        plain = find(configs, "plugin", "passwordless", 1)["latency"]["p50_ms"]
        config = find(configs, "plugin", "password", 1)
        rest = config["latency"]["p50_ms"] - hasher["single_core_ms_per_hash"]
        return [f"    why: one hash takes {hasher['single_core_ms_per_hash']:.0f} ms; the rest of a registration "
                f"with a password {rest:.0f} ms (passwordless p50: {plain:.0f} ms, plus the password policy), "
                f"{rest / hasher['single_core_ms_per_hash']:.0%} on top of the hash; the profile of a passwordless "
                "registration (below) shows where that goes."]
    if target["name"] == "password_vs_platform_view":
        view = find(configs, "platform view", "password", 4)
        view_cpu = view["cpu"]["workers_ms_per_registration"] + view["cpu"]["mariadb_ms_per_registration"]
        view_top = "; ".join(f"{name} {ms:.0f} ms" for name, ms in
                             list(profile["platform_view"]["ms_per_registration_by_category"].items())[:4])
        return [f"    why: on 2 busy cores throughput is CPU per registration: the view costs {view_cpu:.0f} ms "
                f"({view['server']['hashes_per_registration']:.1f} hashes); a registration that only hashed once "
                f"would cost {hasher['single_core_ms_per_hash']:.0f} ms, so no registration that hashes the password "
                f"can be more than {view_cpu / hasher['single_core_ms_per_hash']:.1f}x the view.",
                f"    the view's time, profiled in-process (per registration, the profiler doubles call-heavy code): "
                f"{view_top}."]
    return []


SUMMARY_COLUMNS = (
    ("path", "path", 16, None), ("learners", "learners", 8, 0), ("seconds", "seconds", 7, 1),
    ("learners/s", "learners_per_second", 10, 1),
    ("statements/learner (MariaDB Questions)", "statements_per_learner", 38, 1),
    ("worker CPU ms/learner", "worker_cpu_ms_per_learner", 21, 1),
    ("MariaDB CPU ms/learner", "mariadb_cpu_ms_per_learner", 22, 1),
)


def summary_rows(imports):
    """Return issue 23's rows: the jobs on 1 and 2 workers, the bulk calls, the command (each a dict)."""
    rows = []
    for workers, run in sorted(job_runs(imports).items()):
        rows.append({"path": f"job, {workers} worker{'s' if workers > 1 else ''}", "learners": run["learners"],
                     "seconds": run["seconds"], "learners_per_second": run["learners_per_second"],
                     "statements_per_learner": run["server_statements_per_learner"],
                     "worker_cpu_ms_per_learner": run["workers_cpu_ms_per_learner"],
                     "mariadb_cpu_ms_per_learner": run["mariadb_cpu_ms_per_learner"],
                     "worker": "the job's Celery workers (solo pool), summed"})
    bulk, command = imports["bulk_calls"], imports["command"]
    rows.append({"path": "bulk", "learners": bulk["learners"], "seconds": bulk["seconds"],
                 "learners_per_second": bulk["learners_per_second"],
                 "statements_per_learner": bulk["server_statements_per_learner"],
                 "worker_cpu_ms_per_learner": bulk["workers_cpu_ms_per_learner"],
                 "mariadb_cpu_ms_per_learner": bulk["mariadb_cpu_ms_per_learner"],
                 "worker": f"the gunicorn workers ({bulk['calls']} calls of {bulk['learners_per_call']}, "
                           "one at a time)"})
    rows.append({"path": f"command c={command['concurrency']}", "learners": command["learners"],
                 "seconds": command["seconds"], "learners_per_second": command["learners_per_second"],
                 "statements_per_learner": command["server_statements_per_learner"],
                 "worker_cpu_ms_per_learner": command.get("process_cpu_ms_per_learner"),
                 "mariadb_cpu_ms_per_learner": command.get("mariadb_cpu_ms_per_learner"),
                 "worker": "the process running tahoe_import_learners (its threads)"})
    return rows


def summary_table(imports, configs, floors):
    """Return issue 23's table (markdown), its rows and ratios, as stored in platform.json and printed last."""
    rows = summary_rows(imports)
    lines = ["| " + " | ".join(title.ljust(width) for title, _, width, _ in SUMMARY_COLUMNS) + " |",
             "|" + "|".join("-" * (width + 1) + ("-" if digits is None else ":") for _, _, width, digits
                            in SUMMARY_COLUMNS) + "|"]
    for row in rows:
        cells = [row[key].ljust(width) if digits is None else _number(row[key], digits).rjust(width)
                 for _, key, width, digits in SUMMARY_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    ratios = p50_ratios(configs, floors)
    runs = job_runs(imports)
    speedup = ratio(runs[2]["learners_per_second"], runs[1]["learners_per_second"]) if 1 in runs and 2 in runs \
        else None
    hasher = floors["hasher"]["single_core_ms_per_hash"]
    floor = floors["do_create_account_passwordless"]["p50_ms"]
    lines += [
        "",
        f"* statements/learner: {STATEMENT_COUNTER} over the phase, every client's statements included "
        "(transaction control, SAVEPOINTs, each connection's set-up; the bench's own status polls taken out)",
        "* worker CPU: " + "; ".join(f"{row['path']}: {row['worker']}" for row in rows),
        f"* password ratio: plugin with a password, p50 at concurrency 1 / one PBKDF2 hash ({hasher:.0f} ms, "
        f"same run) = {_number(ratios['password'], 2)}x (target <= {PASSWORD_P50_PER_HASH:.2f})",
        f"* passwordless ratio: plugin passwordless, p50 at concurrency 1 / do_create_account + membership without "
        f"a hash ({floor:.1f} ms, same run) = {_number(ratios['passwordless'], 2)}x "
        f"(target <= {PASSWORDLESS_P50_PER_FLOOR})",
        f"* jobs: 2 workers / 1 worker = {_number(speedup, 2)}x the rate (target >= {JOB_SPEEDUP}); "
        f"TAHOE_REGISTRATION_API_JOB_PARALLELISM {imports['jobs']['parallelism']}, queue {imports['jobs']['queue']}",
    ]
    return {"lines": lines, "rows": rows, "ratios": dict(ratios, job_speedup=speedup),
            "statement_counter": STATEMENT_COUNTER}


def draw_chart(configs, floors, path):
    """Bars of p50 latency and throughput per configuration, with the floors as lines."""
    figure, (latency_axis, throughput_axis) = plt.subplots(1, 2, figsize=(13, 4.8))
    labels = [f"{c['name']}\n{c['flow']} c={c['concurrency']}" for c in configs]
    colours = ["tab:blue" if c["name"] == "plugin" else "tab:gray" for c in configs]
    latency_axis.bar(labels, [c["latency"]["p50_ms"] or 0 for c in configs], color=colours)
    latency_axis.axhline(floors["hasher"]["single_core_ms_per_hash"], color="tab:red", linestyle=":",
                         label="one PBKDF2 hash")
    latency_axis.axhline(floors["do_create_account_passwordless"]["p50_ms"], color="tab:green", linestyle=":",
                         label="do_create_account, no hash")
    throughput_axis.bar(labels, [c["registrations_per_second"] for c in configs], color=colours)
    throughput_axis.axhline(floors["hasher"]["parallel_per_second"], color="tab:red", linestyle=":",
                            label="hasher alone, 2 processes")
    for axis, title, unit in ((latency_axis, "p50 latency", "ms (log)"),
                              (throughput_axis, "Throughput", "reg/s (log)")):
        axis.set_yscale("log")
        axis.set_title(title)
        axis.set_ylabel(unit)
        axis.tick_params(axis="x", labelsize=6)
        axis.grid(True, axis="y", which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle("tahoe_registration_api inside the LMS (gunicorn, MariaDB, PBKDF2) vs the platform's own view")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _profile_lines(summary, profile):
    """Return the profile's summary and the statements of one registration of each kind, by group."""
    lines = list(summary) + ["", "Statements of one registration, grouped as in the platform suite "
                                 "(the Celery task's are not the request's: a worker runs them):"]
    for label, group in profile["statement_groups"].items():
        parts = ", ".join(f"{name} {count}" for name, count in sorted(group["by_group"].items()))
        lines.append(f"  {label} ({group['status']}): {group['request_total']} in the request -- {parts}")
    return lines


# pylint: disable-next=too-many-arguments,too-many-locals
def print_and_save(results, summary, tree, flat, results_dir, started, say):
    """Print the report and write the JSON, the chart and the profile; return how many requests failed."""
    configs, floors, machine = results["configurations"], results["floors"], results["machine"]
    hasher = floors["hasher"]
    say()
    say("=" * 110)
    say(f"Machine: {machine['cpu_model']}, {machine['logical_cores']} logical cores, {machine['memory_gb']} GB; "
        f"Python {machine['python']}, Django {machine['django']}, gunicorn {machine['gunicorn']}, MariaDB "
        f"{machine['mariadb']}, Open edX {machine['openedx_release_line']}, Celery {machine['celery']}")
    say(f"Server: {results['server']['command']} ({machine['settings']}); Celery tasks to Redis, sent afterwards "
        "by a worker.")
    say(f"Floors: one {hasher['algorithm']} hash x{hasher['iterations']}: {hasher['single_core_ms_per_hash']:.0f} ms; "
        f"hasher alone {hasher['single_core_per_second']:.2f}/s (1 core), {hasher['parallel_per_second']:.2f}/s "
        f"(2 processes) -- before the HTTP phases {floors['hasher_before_http']['parallel_per_second']:.2f}/s, after "
        f"{floors['hasher_after_http']['parallel_per_second']:.2f}/s")
    for key in ("do_create_account_passwordless", "do_create_account_password"):
        floor = floors[key]
        say(f"        {floor['what']}: p50 {floor['p50_ms']:.1f} ms, {floor['registrations_per_second']:.2f}/s, "
            f"{floor['queries_per_registration']:.0f} statements")
    say("Columns: stmts, hash, mail = SQL statements, password hashes and emails handed to the mail backend per "
        "request in the web workers; wkr/DB CPU = ms of CPU per registration in the gunicorn workers and MariaDB; "
        "x view = throughput / the platform view's at the same concurrency; p50:floor = p50 / do_create_account's "
        "p50 (same flow); p50:hash = p50 / one hash; rps:hash2p = throughput / the hasher alone on 2 processes.")
    say()
    for line in format_table(configs):
        say(line)
    emails = results["emails"]
    say(f"Celery: {emails['queued_tasks']} tasks queued by the runs (the plugin's emails, the platform view's "
        f"activation emails and pwned-password checks); a worker ran {emails['tasks_succeeded']} and sent "
        f"{emails['emails_sent']} emails in {emails['seconds']:.0f} s, {emails['worker_cpu_ms_per_email']:.1f} ms "
        "of its CPU per email.")
    failed = say_failures(configs, say, width=110)
    say()
    say("Targets inside the LMS (reported, not asserted):")
    for target in results["targets"]:
        say(f"[{'MET' if target['met'] else 'MISSED':6}] {target['text']}: measured {target['shown']}")
        for line in _explain(target, configs, floors, results["profile"], results["imports"]):
            say(line)
    for line in format_enrollments(results["imports"]["bulk_calls"].get("enrollment_calls")):
        say(line)
    say()
    profile_lines = _profile_lines(summary, results["profile"])
    tree_lines = [line for line in tree.splitlines() if line.strip()]
    for line in profile_lines + ["", "Call tree (pyinstrument, library frames hidden), top:"] + tree_lines[:40]:
        say(line)
    results["summary_table"] = summary_table(results["imports"], configs, floors)
    say()
    say("Many learners at once, inside the LMS (`make bench-platform`: MariaDB, Redis, the LMS's own Celery "
        "workers):")
    for line in results["summary_table"]["lines"]:
        say(line)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "platform-profile.txt").write_text(
        "\n".join(profile_lines + ["", "Call tree:"] + tree_lines + ["", "Flat:"] + flat.splitlines()) + "\n",
        encoding="utf-8")
    draw_chart(configs, floors, results_dir / "platform.png")
    results["total_seconds"] = time.perf_counter() - started
    (results_dir / "platform.json").write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n",
                                               encoding="utf-8")
    say(f"Wrote {results_dir / 'platform.json'}, {results_dir / 'platform.png'}, "
        f"{results_dir / 'platform-profile.txt'}")
    return failed
