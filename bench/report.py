"""The bench's printout: the table with ratios to the floors, the targets, the explanations, and the chart."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position

from bench.enrollments import format_enrollments  # noqa: E402  pylint: disable=wrong-import-position

MB = 1024 * 1024


def _number(value, digits=1):
    """Format a number for the table; a dash when missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(value, floor):
    """Return value / floor, or None when either is missing."""
    if value is None or not floor:
        return None
    return value / floor


TABLE_COLUMNS = (
    ("flow", 12, "flow"), ("conc", 4, "concurrency"), ("ok", 5, "ok"), ("fail", 4, "failures"),
    ("reg/s", 7, "rps"), ("p50 ms", 8, "p50"), ("p95 ms", 8, "p95"), ("p99 ms", 8, "p99"),
    ("q/reg", 6, "queries"), ("q-tx/reg", 8, "queries_excl"), ("hash/reg", 8, "hashes"),
    ("peakRSS MB/wkr", 14, "rss"), ("reg/s:ORM", 9, "rps_orm"), ("p50:ORM", 7, "p50_orm"),
    ("reg/s:hash2p", 12, "rps_hash"),
)
DIAGNOSTIC_COLUMNS = (
    ("flow", 12, "flow"), ("conc", 4, "concurrency"), ("worker CPU ms/reg", 17, "cpu_workers"),
    ("MariaDB CPU ms/reg", 18, "cpu_mariadb"), ("client CPU ms/reg", 17, "cpu_client"),
    ("CPU busy", 8, "busy"), ("other procs", 11, "others"), ("deadlock retries", 16, "deadlocks"),
    ("unique retries", 14, "uniques"),
)


def table_row(config):
    """Return the cells of one configuration's rows (both tables)."""
    server, cpu, ratios, latency = config["server"], config["cpu"], config["ratios"], config["latency"]
    return {
        "flow": config["flow"],
        "concurrency": str(config["concurrency"]),
        "ok": str(config["ok"]),
        "failures": str(config["failures"]),
        "rps": _number(config["registrations_per_second"]),
        "p50": _number(latency["p50_ms"]),
        "p95": _number(latency["p95_ms"]),
        "p99": _number(latency["p99_ms"]),
        "queries": _number(server["queries_per_registration"]),
        "queries_excl": _number(server["queries_excluding_transaction_control_per_registration"]),
        "hashes": _number(server["hashes_per_registration"], 2),
        "rss": _number(server["peak_rss_mb_max_worker"]),
        "rps_orm": _number(ratios["throughput_vs_orm_floor"], 2),
        "p50_orm": _number(ratios["p50_vs_orm_floor_p50"], 1),
        "rps_hash": _number(ratios["throughput_vs_hasher_2_processes"], 2),
        "cpu_workers": _number(cpu["workers_ms_per_registration"]),
        "cpu_mariadb": _number(cpu["mariadb_ms_per_registration"]),
        "cpu_client": _number(cpu["load_generator_ms_per_registration"]),
        "busy": f"{100 * cpu['machine_busy_fraction']:.0f}%",
        "others": f"{100 * cpu['other_processes_fraction']:.0f}%",
        "deadlocks": str(config["retries"]["deadlock"]),
        "uniques": str(config["retries"]["unique"]),
    }


def format_table(configs, columns=TABLE_COLUMNS):
    """Return a table of the configurations as lines."""
    header = " ".join(title.rjust(width) for title, width, _ in columns)
    lines = [header, "-" * len(header)]
    for config in configs:
        cells = table_row(config)
        lines.append(" ".join(cells[key].rjust(width) for _, width, key in columns))
    return lines


def find(configs, flow, concurrency):
    """Return the configuration of ``flow`` at ``concurrency`` (None if absent)."""
    return next((c for c in configs if c["flow"] == flow and c["concurrency"] == concurrency), None)


def evaluate_targets(configs, floors):
    """Return the three targets with their measured values and MET/MISSED (reported, never asserted)."""
    targets = []
    passwordless_4 = find(configs, "passwordless", 4)
    value = passwordless_4["registrations_per_second"] if passwordless_4 else None
    targets.append({
        "name": "passwordless_c4_throughput",
        "text": "passwordless at concurrency 4 >= 100 registrations/s",
        "measured": value, "threshold": 100.0, "unit": "reg/s",
        "met": value is not None and value >= 100.0 and passwordless_4["failures"] == 0,
    })
    password = [c for c in configs if c["flow"] == "password"]
    best = max(password, key=lambda c: c["registrations_per_second"] or 0) if password else None
    hasher_rate = floors["hasher"]["parallel_per_second"]
    share = ratio(best["registrations_per_second"], hasher_rate) if best else None
    targets.append({
        "name": "password_vs_hasher",
        "text": (f"with password >= 90% of the hasher-alone throughput on {floors['hasher']['processes']} processes "
                 f"({hasher_rate:.2f} hashes/s); best concurrency {best['concurrency'] if best else '-'}"),
        "measured": share, "threshold": 0.9, "unit": "of hasher throughput",
        "measured_throughput": best["registrations_per_second"] if best else None,
        "met": share is not None and share >= 0.9 and best["failures"] == 0,
    })
    passwordless_1 = find(configs, "passwordless", 1)
    orm_p50 = floors["orm_passwordless"]["p50_ms"]
    multiple = ratio(passwordless_1["latency"]["p50_ms"], orm_p50) if passwordless_1 else None
    targets.append({
        "name": "passwordless_c1_latency_vs_orm",
        "text": f"passwordless p50 latency at concurrency 1 within 3x of the direct-ORM floor ({orm_p50:.2f} ms)",
        "measured": multiple, "threshold": 3.0, "unit": "x the ORM floor's p50",
        "measured_p50_ms": passwordless_1["latency"]["p50_ms"] if passwordless_1 else None,
        "met": multiple is not None and multiple <= 3.0 and passwordless_1["failures"] == 0,
    })
    return targets


def format_target(target):
    """Return one target's line: what, measured, MET/MISSED."""
    verdict = "MET" if target["met"] else "MISSED"
    if target["name"] == "passwordless_c4_throughput":
        measured = f"{_number(target['measured'])} reg/s"
    elif target["name"] == "password_vs_hasher":
        measured = f"{_number(target['measured_throughput'], 2)} reg/s = {100 * (target['measured'] or 0):.0f}%"
    else:
        measured = f"p50 {_number(target['measured_p50_ms'], 2)} ms = {_number(target['measured'], 1)}x"
    return f"[{verdict:6}] {target['text']}: measured {measured}"


def _top_categories(profile, count=3):
    """Return the profile's largest categories as text."""
    items = list(profile["ms_per_registration_by_category"].items())[:count]
    return "; ".join(f"{name} {ms:.1f} ms" for name, ms in items)


def explain(target, configs, floors, profile):
    """Return one or two lines saying where the time goes when a target is missed."""
    if target["met"]:
        return []
    if target["name"] == "passwordless_c4_throughput":
        config = find(configs, "passwordless", 4)
        cpu = config["cpu"]
        per_registration = (cpu["workers_ms_per_registration"] + cpu["mariadb_ms_per_registration"]
                            + cpu["load_generator_ms_per_registration"])
        return [
            f"    why: the 2 cores were {100 * cpu['machine_busy_fraction']:.0f}% busy; each registration costs "
            f"{per_registration:.1f} ms CPU (gunicorn worker {cpu['workers_ms_per_registration']:.1f}, MariaDB "
            f"{cpu['mariadb_ms_per_registration']:.1f}, load generator "
            f"{cpu['load_generator_ms_per_registration']:.1f}),"
            f" so 2 cores allow ~{2000 / per_registration:.0f} reg/s.",
            f"    profile (in-process, per registration): {_top_categories(profile)}; "
            f"{profile['sql_statements_per_registration']:.0f} SQL statements vs "
            f"{floors['orm_passwordless']['queries_per_registration']:.0f} in the ORM floor.",
        ]
    if target["name"] == "password_vs_hasher":
        config = next(c for c in configs if c["flow"] == "password"
                      and c["registrations_per_second"] == target["measured_throughput"])
        cpu = config["cpu"]
        per_registration = (cpu["workers_ms_per_registration"] + cpu["mariadb_ms_per_registration"]
                            + cpu["load_generator_ms_per_registration"])
        plain = find(configs, "passwordless", 4)["cpu"]
        plain_ms = (plain["workers_ms_per_registration"] + plain["mariadb_ms_per_registration"]
                    + plain["load_generator_ms_per_registration"])
        rates = [floors[name]["single_core_ms_per_hash"] for name in ("hasher_before_http", "hasher_after_http")]
        return [
            f"    why: the cores were {100 * cpu['machine_busy_fraction']:.0f}% busy and a registration with password "
            f"cost {per_registration:.0f} ms CPU ({config['server']['hashes_per_registration']:.2f} hashes), so 2 "
            f"cores allow ~{2000 / per_registration:.1f} reg/s; the registration around the hash costs ~{plain_ms:.0f}"
            f" ms CPU (passwordless, c=4),",
            f"    i.e. {100 * plain_ms / per_registration:.0f}% on top of the hash; the rest is the machine's drift "
            f"(one hash took {min(rates):.0f}-{max(rates):.0f} ms of a core during this run).",
        ]
    config = find(configs, "passwordless", 1)
    in_process = profile["unprofiled"]["p50_ms"]
    scans = "; ".join(profile.get("full_scans", [])) or "none"
    if "auth_user ALL" in scans:
        scans += (" - devlms' auth_user has no index on email (Django's default schema; the LMS has a unique one), "
                  "so the username-OR-email conflict checks read the whole table")
    added = config["latency"]["p50_ms"] - in_process
    added = f"~{added:.1f} ms" if added > 0.5 else "no measurable time"
    return [
        f"    why: in-process (no HTTP) a registration takes p50 {in_process:.1f} ms, so HTTP+gunicorn+client add "
        f"{added}; the time is in the application: it runs "
        f"{config['server']['queries_per_registration']:.0f}"
        f" statements (ORM floor {floors['orm_passwordless']['queries_per_registration']:.0f}) on a new connection "
        f"(CONN_MAX_AGE 0, {floors['connect']['p50_ms']:.1f} ms), through middleware, DRF, audit log and email;",
        f"    profile (in-process, per registration): {_top_categories(profile, 4)}.",
        f"    full scans in its SELECTs (EXPLAIN; they grow with the user table): {scans}.",
    ]


def draw_chart(configs, floors, path):
    """Draw latency p50/p95 and throughput against concurrency, both flows, with the floors as lines."""
    figure, (latency_axis, throughput_axis) = plt.subplots(1, 2, figsize=(12, 4.8))
    colours = {"passwordless": "tab:blue", "password": "tab:red"}
    for flow, colour in colours.items():
        rows = [c for c in configs if c["flow"] == flow]
        levels = [c["concurrency"] for c in rows]
        latency_axis.plot(levels, [c["latency"]["p50_ms"] for c in rows], "o-", color=colour, label=f"{flow} p50")
        latency_axis.plot(levels, [c["latency"]["p95_ms"] for c in rows], "s--", color=colour, label=f"{flow} p95")
        throughput_axis.plot(levels, [c["registrations_per_second"] for c in rows], "o-", color=colour,
                             label=f"{flow} (HTTP)")
    throughput_axis.axhline(floors["hasher"]["parallel_per_second"], color="tab:red", linestyle=":",
                            label="hasher alone, 2 processes")
    throughput_axis.axhline(floors["orm_passwordless"]["registrations_per_second"], color="tab:blue",
                            linestyle=":", label="direct ORM, passwordless (1 connection)")
    latency_axis.axhline(floors["orm_passwordless"]["p50_ms"], color="tab:blue", linestyle=":",
                         label="direct ORM passwordless p50")
    for axis, title, unit in ((latency_axis, "Latency", "ms (log)"), (throughput_axis, "Throughput", "reg/s (log)")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks([1, 4, 16])
        axis.set_xticklabels(["1", "4", "16"])
        axis.set_xlabel("concurrency (client threads)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle("tahoe_registration_api over HTTP (devlms, gunicorn, MariaDB)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def say_failures(configs, say, width=100):
    """Print, loudly, how many requests failed and samples of their answers; return the count."""
    failed = sum(config["failures"] + config["warmup_failures"] for config in configs)
    if failed:
        say()
        say("!" * width)
        say(f"!!! {failed} REQUESTS FAILED (not 200): THESE FIGURES ARE NOT VALID")
        for config in configs:
            for sample in config["failure_samples"]:
                say(f"!!!   {config.get('name', 'plugin')} {config['flow']} c={config['concurrency']}: {sample}")
        say("!" * width)
    return failed


def format_imports(imports, configs):
    """Return the import section: each way of registering many learners, against single calls."""
    single_1, single_4 = find(configs, "passwordless", 1), find(configs, "passwordless", 4)
    command, job, bulk = imports["command"], imports["job"], imports["bulk_calls"]

    def server_cpu(config):
        return config["cpu"]["workers_ms_per_registration"] + config["cpu"]["mariadb_ms_per_registration"]

    rows = [
        ("single calls, c=1 (HTTP)", single_1["registrations_per_second"],
         single_1["server"]["queries_per_registration"], None, server_cpu(single_1)),
        ("single calls, c=4 (HTTP)", single_4["registrations_per_second"],
         single_4["server"]["queries_per_registration"], None, server_cpu(single_4)),
        (f"bulk calls of {bulk['learners_per_call']}, one at a time (HTTP)", bulk["learners_per_second"],
         bulk["statements_per_learner"], bulk["seconds"],
         bulk["workers_cpu_ms_per_learner"] + bulk["mariadb_cpu_ms_per_learner"]),
        (f"tahoe_import_learners --concurrency {command['concurrency']}", command["learners_per_second"],
         command["server_statements_per_learner"], command["seconds"], None),
        ("registration job (its task, one worker)", job["learners_per_second"],
         job["server_statements_per_learner"], job["seconds"], None),
    ]
    lines = ["", f"Imports: {command['learners']} passwordless learners; every path queues the emails' tasks, none "
                 "sends them (statements: the single and bulk calls' through Django in the server; the command's and "
                 "the job's as MariaDB counted them, autocommit and COMMIT included)",
             f"  {'how':52} {'learners/s':>10} {'stmts/learner':>13} {'seconds':>8} {'x single c=1':>12} "
             f"{'server CPU ms/learner':>21}"]
    for name, rate, statements, seconds, cpu in rows:
        lines.append(f"  {name:52} {rate:10.1f} {statements:13.1f} {_number(seconds, 1):>8} "
                     f"{rate / single_1['registrations_per_second']:11.1f}x {_number(cpu, 2):>21}")
    peaks = ", ".join(f"{peak:.2f} MB for {count} rows" for count, peak in imports["upload_peak_mb"].items())
    lines.append(f"  the job's upload (the CSV read line by line, rows written 1000 at a time): "
                 f"{job['upload']['seconds']:.1f} s, {job['upload']['rows_per_second']:.0f} rows/s; "
                 f"peak memory {peaks}")
    if imports.get("target_seconds"):
        fastest = min(command["seconds"], job["seconds"])
        met = fastest < imports["target_seconds"] and command["created"] == command["learners"]
        lines.append(f"[{'MET' if met else 'MISSED':6}] {command['learners']} passwordless learners imported by a "
                     "job or "
                     f"the command in under {imports['target_seconds']} s: command {command['seconds']:.1f} s, "
                     f"job {job['seconds']:.1f} s")
    return lines + format_enrollments(bulk.get("enrollment_calls"))
