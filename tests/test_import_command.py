"""``tahoe_import_learners --site DOMAIN FILE.csv``: the operator's import, resumable, with progress and a summary."""

import csv
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import TestCase

from tests.conftest import make_user
from tests.rows import row_counts

PASSWORD = "Str0ng-enough-pw"


def write_csv(tmp_path, *lines, name="learners.csv"):
    """Write a CSV file and return its path."""
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def run_import(*args):
    """Run the command; return (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        # Inside a test's transaction, run what waits for each learner's commit (the emails' queueing).
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("tahoe_import_learners", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def learners_csv(tmp_path, count, start=0):
    """A CSV of ``count`` passwordless learners."""
    return write_csv(tmp_path, "username,email,name,ref",
                     *[f"l{n},l{n}@example.com,Learner {n},r{n}" for n in range(start, start + count)])


def test_an_import_registers_every_row_with_a_progress_bar_and_a_summary(alpha, tmp_path):
    path = learners_csv(tmp_path, 5)
    status, out, err = run_import("--site", alpha.domain, path)
    assert status == 0, out + err
    assert get_user_model().objects.filter(username__startswith="l").count() == 5
    assert "5/5" in err and "row/s" in err  # tqdm: rows done of the total, and the rate
    assert "created" in out and "5 rows in" in out
    assert sorted(message.to[0] for message in mail.outbox) == [f"l{n}@example.com" for n in range(5)]


def test_run_again_after_an_interruption_it_reports_exists_and_registers_nobody_twice(alpha, tmp_path):
    run_import("--site", alpha.domain, learners_csv(tmp_path, 3))  # the first three, then "interrupted"
    mail.outbox.clear()
    results = tmp_path / "results.csv"
    status, out, _ = run_import("--site", alpha.domain, learners_csv(tmp_path, 5), "--results", str(results))
    assert status == 0
    rows = list(csv.DictReader(results.open(encoding="utf-8")))
    assert [(row["row"], row["ref"], row["status"]) for row in rows] == [
        ("2", "r0", "exists"), ("3", "r1", "exists"), ("4", "r2", "exists"), ("5", "r3", "200"), ("6", "r4", "200")]
    users = get_user_model().objects
    assert all(row["user_id"] == str(users.get(username=row["username"]).pk) for row in rows)
    assert users.filter(username__startswith="l").count() == 5
    assert len(mail.outbox) == 2
    assert "exists" in out


def test_a_username_taken_with_another_email_is_a_conflict_not_exists(alpha, tmp_path):
    make_user("l0", alpha)  # l0@example.com is the CSV's email too, but...
    get_user_model().objects.filter(username="l0").update(email="someone.else@example.com")
    results = tmp_path / "results.csv"
    status, out, _ = run_import("--site", alpha.domain, learners_csv(tmp_path, 1), "--results", str(results))
    assert status == 2
    (row,) = csv.DictReader(results.open(encoding="utf-8"))
    assert (row["status"], row["error_code"], row["fields"]) == ("409", "duplicate-username", "username")
    assert "conflict (409)" in out


def test_a_dry_run_registers_nobody_and_sends_nothing(alpha, tmp_path):
    before = row_counts()
    path = write_csv(tmp_path, "username,email,name", "ada,ada@example.com,Ada", "ada,ada2@example.com,Ada 2",
                     "bo,not-an-email,Bo")
    status, out, _ = run_import("--site", alpha.domain, path, "--dry-run")
    assert status == 2
    assert row_counts() == before and mail.outbox == []
    assert "would be created" in out and "conflict (409)" in out and "invalid (400)" in out
    assert "Dry run: nobody was registered" in out


def test_no_email_registers_without_any_email(alpha, tmp_path):
    path = write_csv(tmp_path, "username,email,name,password", "ada,ada@example.com,Ada,",
                     f"bob,bob@example.com,Bob,{PASSWORD}")
    status, out, _ = run_import("--site", alpha.domain, path, "--no-email")
    assert status == 0
    assert get_user_model().objects.filter(username__in=["ada", "bob"]).count() == 2
    assert mail.outbox == []
    assert "no email was sent" in out


def test_a_malformed_file_is_refused_before_anyone_is_registered(alpha, tmp_path):
    before = row_counts()
    path = write_csv(tmp_path, "username,email,name", "ada,ada@example.com,Ada", "bob,bob@example.com,Bob,extra")
    with pytest.raises(CommandError, match="Line 3: it has 4 fields"):
        run_import("--site", alpha.domain, path)
    assert row_counts() == before


@pytest.mark.django_db
def test_an_unknown_site_or_file_is_a_clear_error(alpha, tmp_path):
    with pytest.raises(CommandError, match="No site has the domain 'nowhere.example.com'"):
        run_import("--site", "nowhere.example.com", learners_csv(tmp_path, 1))
    with pytest.raises(CommandError, match="Cannot read"):
        run_import("--site", alpha.domain, str(tmp_path / "missing.csv"))


def test_passwords_never_reach_the_output_or_the_results(alpha, tmp_path):
    path = write_csv(tmp_path, "username,email,name,password", f"ada,ada@example.com,Ada,{PASSWORD}",
                     "bob,bob@example.com,Bob,short")
    results = tmp_path / "results.csv"
    _, out, err = run_import("--site", alpha.domain, path, "--results", str(results))
    assert PASSWORD not in out + err + results.read_text(encoding="utf-8")
    assert "short" not in results.read_text(encoding="utf-8")


@pytest.mark.mariadb  # threads need a database of concurrent writers (sqlite's shared memory locks tables)
@pytest.mark.django_db(transaction=True)
def test_concurrency_registers_in_threads_and_keeps_the_input_order(alpha, tmp_path):
    lines = [f"t{n},t{n}@example.com,Threaded {n},r{n}" for n in range(40)]
    lines.insert(10, "t3,t3-again@example.com,Duplicate Of Three,dup")  # a later duplicate of row t3
    path = write_csv(tmp_path, "username,email,name,ref", *lines)
    results = tmp_path / "results.csv"
    status, out, err = run_import("--site", alpha.domain, path, "--concurrency", "4", "--results", str(results))
    assert status == 2, out + err
    rows = list(csv.DictReader(results.open(encoding="utf-8")))
    assert [row["ref"] for row in rows] == [line.split(",")[3] for line in lines]
    assert [row["row"] for row in rows] == [str(number) for number in range(2, 43)]
    assert [row["status"] for row in rows].count("200") == 40
    dup = rows[10]
    assert (dup["status"], dup["error_code"]) == ("409", "duplicate-username")
    users = get_user_model().objects.filter(username__startswith="t")
    assert users.count() == 40
    assert all(row["user_id"] == str(users.get(username=row["username"]).pk) for row in rows if row["status"] == "200")


@pytest.mark.django_db
def test_concurrency_below_one_is_refused(alpha, tmp_path):
    with pytest.raises(CommandError, match="--concurrency must be 1 or more"):
        run_import("--site", alpha.domain, learners_csv(tmp_path, 1), "--concurrency", "0")


def test_each_row_of_an_import_is_in_the_audit_store(alpha, tmp_path):
    from tahoe_registration_api.models import AuditEntry  # pylint: disable=import-outside-toplevel

    run_import("--site", alpha.domain, learners_csv(tmp_path, 2))
    run_import("--site", alpha.domain, learners_csv(tmp_path, 2))
    outcomes = list(AuditEntry.objects.filter(action="import", site_id=alpha.site.pk)
                    .order_by("pk").values_list("outcome", "caller_id"))
    assert outcomes == [("registered", None)] * 2 + [("exists", None)] * 2
    assert AuditEntry.objects.filter(action="import").values("request_id").distinct().count() == 2
