"""
The outbox: each learner's email is owed in the learner's transaction and sent once, whatever dies when.

The process is killed (a ``BaseException``: nothing after that point runs) at each point of the
outbox's protocol, on each path that registers learners (a single call, a bulk call, a job, the
import command); then time passes and the next registration's hand-over sweeps. Emails are
counted per learner. The platform suite does the same with a real worker and broker.
"""

import json
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tahoe_registration_api import outbox, pipeline
from tahoe_registration_api.models import OutboxMessage
from tests.conftest import learner_body

PATHS = ("single", "bulk", "job", "command")


def emails():
    """The outbox's emails (beside the webhooks' events)."""
    return OutboxMessage.objects.filter(kind="email")


class ProcessKilled(BaseException):
    """The process dies here (SIGKILL): nothing after this point runs."""


def register(path, site, caller, tmp_path, names):
    """Register learners ``names`` on ``site`` by ``path``; the emails are delivered eagerly, as the dev LMS does."""
    bodies = [learner_body(username=name, email=f"{name}@example.com", name=name.title()) for name in names]
    if path == "single":
        for body in bodies:
            assert caller.register(site, body).status_code == 200
    elif path == "bulk":
        response = caller.register(site, {"learners": bodies}, url="/tahoe/api/v1/registrations/bulk/")
        assert response.json()["created"] == len(bodies), response.json()
    elif path == "job":
        rows = "".join(f"{body['username']},{body['email']},{body['name']}\n" for body in bodies)
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = caller.client.post("/tahoe/api/v1/registration-jobs/", f"username,email,name\n{rows}",
                                          content_type="text/csv", HTTP_HOST=site.domain)
        assert response.status_code == 202, response.content
    else:
        path_csv = tmp_path / f"{names[0]}.csv"
        path_csv.write_text("username,email,name\n" + "".join(
            f"{body['username']},{body['email']},{body['name']}\n" for body in bodies), encoding="utf-8")
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("tahoe_import_learners", "--site", site.domain, str(path_csv), verbosity=0)


def time_passes():
    """Move every undone message's due time into the past (the grace or lease ran out); let the next hand-over sweep."""
    emails().exclude(due=None).update(due=timezone.now() - timedelta(seconds=1))
    outbox.SWEEP.next_at = 0.0


def sent_to():
    """Emails sent so far, per recipient."""
    return Counter(message.to[0] for message in mail.outbox)


def dies_once(real, where):
    """Return ``real`` that kills the process the first time it is called (before or after running it)."""
    calls = []

    def dying(*args, **kwargs):
        calls.append(args)
        if where == "before" and len(calls) == 1:
            raise ProcessKilled()
        result = real(*args, **kwargs)
        if where == "after" and len(calls) == 1:
            raise ProcessKilled()
        return result
    return dying


@pytest.fixture(autouse=True)
def _no_sweep_until_time_passes():
    """No sweep runs until a test lets time pass (the sweep's interval is per process)."""
    outbox.SWEEP.next_at = float("inf")
    yield
    outbox.SWEEP.next_at = 0.0


@pytest.mark.parametrize("path", PATHS)
def test_killed_after_the_commit_before_the_hand_over_the_email_is_sent_once_by_the_sweep(
    path, alpha, alpha_admin, tmp_path
):
    with mock.patch.object(outbox, "hand_over", dies_once(outbox.hand_over, "before")), \
            pytest.raises(ProcessKilled):
        register(path, alpha, alpha_admin, tmp_path, ["ada", "bob"])
    pending = emails().filter(state="pending")
    assert pending.count() >= 1 and not mail.outbox  # ada committed, her email never handed over
    time_passes()
    register(path, alpha, alpha_admin, tmp_path, ["cy"])  # the next registration's hand-over sweeps
    committed = [name for name in ("ada", "bob", "cy") if get_user_model().objects.filter(username=name).exists()]
    assert "ada" in committed and "cy" in committed
    assert sent_to() == Counter({f"{name}@example.com": 1 for name in committed})
    assert set(emails().values_list("state", flat=True)) == {"sent"}


@pytest.mark.parametrize("path", PATHS)
def test_killed_after_the_claim_before_the_send_the_email_is_sent_once_after_the_lease(
    path, alpha, alpha_admin, tmp_path
):
    with mock.patch.object(outbox, "_send", dies_once(outbox._send, "before")), pytest.raises(ProcessKilled):
        register(path, alpha, alpha_admin, tmp_path, ["ada"])
    assert emails().values_list("state", "attempts").get() == ("leased", 1)
    assert not mail.outbox
    time_passes()  # the lease ran out
    register(path, alpha, alpha_admin, tmp_path, ["bob"])
    assert sent_to() == Counter({"ada@example.com": 1, "bob@example.com": 1})
    assert emails().get(user_id=get_user_model().objects.get(username="ada").pk).attempts == 2


@pytest.mark.parametrize("path", PATHS)
def test_killed_after_the_send_before_the_mark_the_email_is_sent_twice_the_documented_duplicate(
    path, alpha, alpha_admin, tmp_path
):
    with mock.patch.object(outbox, "_done", dies_once(outbox._done, "before")), pytest.raises(ProcessKilled):
        register(path, alpha, alpha_admin, tmp_path, ["ada"])
    assert sent_to() == Counter({"ada@example.com": 1})
    assert emails().values_list("state", flat=True).get() == "leased"
    time_passes()
    register(path, alpha, alpha_admin, tmp_path, ["bob"])
    assert sent_to() == Counter({"ada@example.com": 2, "bob@example.com": 1})


def test_a_message_queued_twice_is_sent_once(alpha, alpha_admin):
    with mock.patch.object(outbox, "hand_over"):  # the hand-over is lost
        assert alpha_admin.register(alpha, learner_body()).status_code == 200
    message = emails().get()
    for _ in range(2):  # a sweep's copy and the original, both delivered
        outbox.deliver_outbox_message.apply(args=(message.pk,))
    assert sent_to() == Counter({"alex.userton@example.com": 1})
    assert emails().values_list("state", "attempts").get() == ("sent", 1)


def test_a_live_lease_is_not_taken_by_a_copy(alpha, alpha_admin):
    with mock.patch.object(outbox, "hand_over"):
        alpha_admin.register(alpha, learner_body())
    message = emails().get()
    emails().filter(pk=message.pk).update(state="leased", due=timezone.now() + timedelta(minutes=5))
    assert outbox.deliver(message.pk) is None
    outbox.sweep()
    assert not mail.outbox and emails().get().state == "leased"


def test_a_refused_or_rolled_back_registration_owes_nothing(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body(email="not-an-email")).status_code == 400
    assert alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw",
                                                    send_activation_email=False)).status_code == 200
    assert not emails().exists() and not mail.outbox


def test_a_message_holds_no_address_link_or_password(alpha, alpha_admin):
    with mock.patch.object(outbox, "hand_over"):
        alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw"))
    stored = json.dumps(list(OutboxMessage.objects.values()), default=str)
    assert "alex.userton" not in stored and "Str0ng-enough-pw" not in stored and "http" not in stored


def test_sent_messages_are_purged_after_the_retention_pending_ones_never(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_OUTBOX_RETENTION_DAYS = 7
    with mock.patch.object(outbox, "hand_over"):
        alpha_admin.register(alpha, learner_body(username="waits", email="waits@example.com"))
    alpha_admin.register(alpha, learner_body(username="sent", email="sent@example.com"))
    long_ago = timezone.now() - timedelta(days=8)
    emails().filter(state="sent").update(done_at=long_ago)
    emails().filter(state="pending").update(created=long_ago)
    assert outbox.RETENTION.purge() == 1
    assert list(emails().values_list("state", flat=True)) == ["pending"]


def test_a_message_stranded_with_nothing_else_happening_is_taken_up_by_the_sweep_queued_for_it(alpha, alpha_admin):
    with mock.patch.object(outbox, "_send", dies_once(outbox._send, "before")), pytest.raises(ProcessKilled):
        alpha_admin.register(alpha, learner_body())  # the worker died after its claim: leased for 300 s
    lease_ends = emails().get().due
    queued = []
    outbox.SWEEP.next_at = 0.0
    with mock.patch.object(outbox.sweep_outbox, "apply_async", lambda **options: queued.append(options)):
        outbox.SWEEP.run_if_due()  # a sweep of any process: nothing overdue yet, one later sweep queued
        outbox.SWEEP.next_at = 0.0
        outbox.SWEEP.run_if_due()  # queued already for that time: not again
    assert len(queued) == 1 and 299 <= queued[0]["countdown"] <= 302 and lease_ends > timezone.now()
    time_passes()  # the lease ran out; nothing else happens on the site
    outbox.sweep_outbox.apply()  # the queued sweep runs
    assert sent_to() == Counter({"alex.userton@example.com": 1})


@pytest.fixture(name="tasks_queued")
def fixture_tasks_queued(monkeypatch):
    """The message ids of each delivery task queued (the tasks are not run)."""
    queued = []
    monkeypatch.setattr(outbox.deliver_outbox_message, "apply_async", lambda args, **options: queued.append(args))
    return queued


@pytest.mark.django_db(transaction=True)  # real commits: hand-overs as they happen
@pytest.mark.parametrize("path", ("bulk", "job", "command"))
def test_a_batch_of_learners_hands_its_messages_over_fifty_to_a_task_each_once(
    path, alpha, alpha_admin, tmp_path, tasks_queued, monkeypatch
):
    monkeypatch.setattr(outbox, "HAND_OVER_WAIT", 60.0)  # full batches on a slow machine too (the wait: its own test)
    names = [f"learner{n}" for n in range(120)]
    register(path, alpha, alpha_admin, tmp_path, names)
    assert emails().count() == 120
    owed = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))  # the webhooks' events too
    sizes = [len(task) for task in tasks_queued]
    # Fifty to a task, each once; a job's "completed" event commits after its last batch, and goes alone.
    assert sizes == [50, 50, 50, 50, 40] + ([1] if path == "job" else [])
    assert [pk for task in tasks_queued for pk in task] == owed


@pytest.mark.mariadb  # threads need a database of concurrent writers (sqlite locks tables)
@pytest.mark.django_db(transaction=True)  # real commits: hand-overs as they happen
def test_the_import_commands_threads_share_one_batch_and_hand_each_message_over_once(
    alpha, tmp_path, tasks_queued
):
    path_csv = tmp_path / "learners.csv"
    path_csv.write_text("username,email,name\n" + "".join(
        f"learner{n},learner{n}@example.com,Learner {n}\n" for n in range(60)), encoding="utf-8")
    call_command("tahoe_import_learners", "--site", alpha.domain, "--concurrency", "2", str(path_csv), verbosity=0)
    owed = set(OutboxMessage.objects.values_list("pk", flat=True))  # each learner's email and event
    handed_over = [pk for task in tasks_queued for pk in task]
    assert emails().count() == 60 and len(owed) == 120 and sorted(handed_over) == sorted(owed)
    assert all(len(task) <= outbox.HAND_OVER_BATCH for task in tasks_queued)


@pytest.mark.django_db(transaction=True)  # real commits: hand-overs as they happen
def test_a_message_joining_a_batch_after_the_wait_hands_the_batch_over(
    alpha, alpha_admin, tmp_path, tasks_queued, monkeypatch
):
    monkeypatch.setattr(outbox, "HAND_OVER_WAIT", 0.0)  # each message joins its batch "after the wait"
    monkeypatch.setattr(pipeline, "GROUP_SIZE", 1)  # a commit per learner
    register("bulk", alpha, alpha_admin, tmp_path, ["ada", "bob", "cy"])
    # One hand-over per commit: the learner's email and event, written and committed together.
    assert len(tasks_queued) == 3 and all(len(task) == 2 for task in tasks_queued)


@pytest.mark.django_db(transaction=True)
def test_a_group_of_learners_hands_over_its_messages_at_its_commit(alpha, alpha_admin, tmp_path, tasks_queued,
                                                                   monkeypatch):
    monkeypatch.setattr(outbox, "HAND_OVER_WAIT", 0.0)
    register("bulk", alpha, alpha_admin, tmp_path, ["ada", "bob", "cy"])
    assert [len(task) for task in tasks_queued] == [6]  # three learners, one transaction: emails and events


def test_a_message_committed_after_its_batch_closed_is_handed_over_at_once(alpha, tasks_queued):
    with outbox.batched_hand_overs() as batch:
        pass
    batch.add_all([41])
    assert tasks_queued == [(41,)]


def test_one_messages_unexpected_failure_does_not_stop_the_rest_of_its_task(
    alpha, alpha_admin, tmp_path, monkeypatch
):
    with mock.patch.object(outbox, "hand_over"):  # held back, delivered below by one task
        register("bulk", alpha, alpha_admin, tmp_path, ["ada", "bob", "cy"])
    ids = tuple(emails().order_by("pk").values_list("pk", flat=True))
    real_deliver = outbox.deliver

    def database_gone_for_bob(message_id):
        if emails().get(pk=message_id).user_id == get_user_model().objects.get(username="bob").pk:
            raise outbox.transaction.TransactionManagementError("the connection went away")
        return real_deliver(message_id)

    monkeypatch.setattr(outbox, "deliver", database_gone_for_bob)
    outbox.deliver_outbox_message.apply(args=ids)
    assert sent_to() == Counter({"ada@example.com": 1, "cy@example.com": 1})
    monkeypatch.setattr(outbox, "deliver", real_deliver)
    time_passes()
    assert outbox.sweep() == 1  # bob's message, left pending, is handed over again
    assert sent_to() == Counter({"ada@example.com": 1, "bob@example.com": 1, "cy@example.com": 1})


def test_a_database_that_returns_no_ids_from_a_bulk_insert_still_hands_each_message_over(
    alpha, alpha_admin, monkeypatch
):
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)  # as on MySQL
    with mock.patch.object(outbox, "hand_over") as hand_over, CaptureQueriesContext(connection) as queries:
        assert alpha_admin.register(alpha, learner_body()).status_code == 200
    inserts = [query["sql"] for query in queries.captured_queries
               if query["sql"].startswith("INSERT INTO") and "tahoe_registration_api_outboxmessage" in query["sql"]]
    assert len(inserts) == 2  # one a message, as the database cannot say which ids one statement made
    [(handed_over,), _] = hand_over.call_args
    assert sorted(handed_over) == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert sorted(OutboxMessage.objects.values_list("kind", flat=True)) == ["email", "event"]


@pytest.mark.parametrize("send_fails", [False, True])
def test_a_message_given_up_while_it_is_being_sent_stays_given_up(alpha, alpha_admin, send_fails):
    with mock.patch.object(outbox, "hand_over"):
        assert alpha_admin.register(alpha, learner_body()).status_code == 200
    message = emails().get()
    real_send = outbox._send

    def given_up_meanwhile(leased):
        """The learner is retired while the email goes out: the message is given up under the sender."""
        OutboxMessage.objects.filter(pk=leased.pk).update(state="failed", due=None, last_error="LearnerRetired")
        if send_fails:
            raise ConnectionError("the mail server went away")
        real_send(leased)

    with mock.patch.object(outbox, "_send", given_up_meanwhile):
        assert outbox.deliver(message.pk) == "failed"
    assert emails().values_list("state", "due", "last_error").get() == ("failed", None, "LearnerRetired")
    time_passes()
    outbox.sweep()
    assert emails().get().state == "failed"  # never handed back for a retry


def test_an_atomic_messages_writes_are_undone_when_another_worker_took_it_meanwhile(alpha, monkeypatch):
    class Recording:
        """An atomic kind whose send writes a row: it must commit with the message's mark, or not at all."""

        atomic = True

        @staticmethod
        def send(message):
            outbox.message_of("email", "written-by-the-send", alpha.site.pk, None, {}).save()
            # the lease ran out and another worker claimed the message (its attempt counted; in a test's one
            # connection that claim is inside this transaction, so it is undone with it)
            OutboxMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)

    monkeypatch.setitem(outbox.KINDS, "recording", Recording)
    message = outbox.message_of("recording", "an-event", alpha.site.pk, None, {})
    message.save()
    assert outbox.deliver(message.pk) == "leased"  # the other worker's lease: its state is kept
    assert not OutboxMessage.objects.filter(topic="written-by-the-send").exists()
    assert OutboxMessage.objects.values_list("state", "done_at").get(pk=message.pk) == ("leased", None)


def test_a_slow_send_that_outlived_its_lease_is_marked_sent_and_the_sweeps_copy_sends_nothing(alpha, alpha_admin):
    with mock.patch.object(outbox, "hand_over"):
        assert alpha_admin.register(alpha, learner_body()).status_code == 200
    message = emails().get()
    real_send = outbox._send

    def outlives_its_lease(leased):
        real_send(leased)
        time_passes()  # the lease ran out while the mail server answered slowly
        with mock.patch.object(outbox, "hand_over"):
            outbox.sweep()  # the sweep hands the message back; its copy is not claimed yet

    with mock.patch.object(outbox, "_send", outlives_its_lease):
        assert outbox.deliver(message.pk) == "sent"
    assert outbox.deliver(message.pk) is None  # the sweep's copy finds it sent
    assert sent_to() == Counter({"alex.userton@example.com": 1})
    assert emails().values_list("state", "attempts").get() == ("sent", 1)
