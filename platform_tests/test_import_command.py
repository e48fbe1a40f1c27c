"""``./manage.py lms tahoe_import_learners``: the operator's CSV import, inside the LMS."""

import csv
from io import StringIO

from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from conftest import PASSWORD


def run_import(*args):
    """Run the command; return (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("tahoe_import_learners", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def write(tmp_path, lines):
    """Write a CSV and return its path."""
    path = tmp_path / "learners.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_an_interrupted_import_run_again_resumes_and_registers_nobody_twice(alpha, tmp_path):
    header = "username,email,name,password,ref"
    rows = [f"imp{n},imp{n}@example.com,Imported {n},,r{n}" for n in range(6)]
    rows.append(f"impactive,impactive@example.com,Imported Active,{PASSWORD},r6")
    status, _, _ = run_import("--site", alpha.domain, write(tmp_path, [header] + rows[:3]))
    assert status == 0
    assert len(mail.outbox) == 3
    results = tmp_path / "results.csv"
    status, out, err = run_import("--site", alpha.domain, write(tmp_path, [header] + rows), "--results", str(results))
    assert status == 0, out + err
    lines = list(csv.DictReader(results.open(encoding="utf-8")))
    assert [line["status"] for line in lines] == ["exists"] * 3 + ["200"] * 4
    users = get_user_model().objects.filter(username__startswith="imp")
    assert users.count() == 7
    assert {line["user_id"] for line in lines} == {str(pk) for pk in users.values_list("pk", flat=True)}
    assert len(mail.outbox) == 3 + 4 and len({message.to[0] for message in mail.outbox}) == 7
    assert "7/7" in err and "exists" in out and "created" in out


def test_no_email_sends_nothing_and_a_dry_run_writes_nothing(alpha, tmp_path):
    path = write(tmp_path, ["username,email,name", "quiet,quiet@example.com,Quiet Learner"])
    status, out, _ = run_import("--site", alpha.domain, path, "--dry-run")
    assert status == 0 and "would be created" in out
    assert not get_user_model().objects.filter(username="quiet").exists()
    status, out, _ = run_import("--site", alpha.domain, path, "--no-email")
    assert status == 0
    assert get_user_model().objects.filter(username="quiet").exists()
    assert mail.outbox == []
