"""
The outbox inside the LMS, with a real ``celery -A lms.celery worker`` on a real Redis broker.

On each path (a single call, a bulk call, a job, the import command) a process dies at each point
of the outbox's protocol: this (the web) process after the learner's commit and before the
hand-over; the worker after its claim and before the send, or after the send and before the mark
(``os._exit``, as a SIGKILL). Then the leases and grace run out (seconds here), a next learner is
registered, and the emails are counted per learner: one each, but for the documented duplicate
of a worker that died after the send.
"""

import time
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tahoe_registration_api import outbox
from tahoe_registration_api.models import OutboxMessage

from conftest import learner_body
from worker import celery_worker, queued_to, wait_for

PATHS = ("single", "bulk", "job", "command")
OUTBOX_SECONDS = 2  # the leases and the grace, in this test's web process and workers


class ProcessKilled(BaseException):
    """This (the web) process dies here: nothing after this point runs."""


@pytest.fixture(name="web")
def fixture_web(settings):
    """This process is the LMS's web process, with the worker's short outbox times and a sweep at each hand-over."""
    settings.TAHOE_REGISTRATION_API_OUTBOX_LEASE = OUTBOX_SECONDS
    settings.TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE = OUTBOX_SECONDS
    settings.TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL = 0
    outbox.SWEEP.next_at = 0.0


def worker_env(dies=None):
    """The environment of a worker with the test's outbox times, dying at ``dies`` if given."""
    env = {"TAHOE_PLATFORM_WORKER_OUTBOX_SECONDS": str(OUTBOX_SECONDS), "TAHOE_PLATFORM_WORKER_VISIBILITY_TIMEOUT": "3"}
    if dies:
        env["TAHOE_PLATFORM_WORKER_DIES"] = dies
    return env


def register(path, admin, site, names, tmp_path):
    """Register learners ``names`` on ``site`` by ``path``; this process queues to the worker's broker."""
    bodies = [learner_body(username=name, email=f"{name}@example.com", name=name.title()) for name in names]
    if path == "single":
        for body in bodies:
            response = admin.register(site, body)
            assert response.status_code == 200, response.content
    elif path == "bulk":
        response = admin.register(site, {"learners": bodies}, url="/tahoe/api/v1/registrations/bulk/")
        assert response.json()["created"] == len(bodies), response.content
    elif path == "job":
        rows = "".join(f"{body['username']},{body['email']},{body['name']}\n" for body in bodies)
        response = admin.client.post("/tahoe/api/v1/registration-jobs/", f"username,email,name\n{rows}",
                                     content_type="text/csv", **admin.headers(site.domain, {}))
        assert response.status_code == 202, response.content
    else:
        csv_path = tmp_path / f"{names[0]}.csv"
        csv_path.write_text("username,email,name\n" + "".join(
            f"{body['username']},{body['email']},{body['name']}\n" for body in bodies), encoding="utf-8")
        call_command("tahoe_import_learners", "--site", site.domain, str(csv_path), verbosity=0)


def registered(username):
    """Whether ``username`` is registered."""
    return get_user_model().objects.filter(username=username).exists()


def sent_per_learner(worker):
    """The emails the workers sent so far, per recipient."""
    return Counter(message["To"] for message in worker.messages())


@pytest.mark.parametrize("path", PATHS)
def test_killed_after_the_learners_commit_before_the_hand_over(path, alpha, alpha_admin, web, monkeypatch, tmp_path):
    """The process that committed ada dies before it hands her email over: this one, or the job's worker."""
    with celery_worker(extra_env=worker_env(dies="before-hand-over:ada")) as first, queued_to(first.broker_url):
        if path == "job":
            register(path, alpha_admin, alpha, ["ada", "bob"], tmp_path)
            wait_for(lambda: first.process.poll() is not None, 60, "the worker to die at ada's hand-over")
        else:
            real_hand_over, calls = outbox.hand_over, []

            def dies_at_the_first(*args, **kwargs):
                calls.append(args)
                if len(calls) == 1:
                    raise ProcessKilled()
                return real_hand_over(*args, **kwargs)

            monkeypatch.setattr(outbox, "hand_over", dies_at_the_first)
            with pytest.raises(ProcessKilled):
                register(path, alpha_admin, alpha, ["ada", "bob"], tmp_path)
            monkeypatch.setattr(outbox, "hand_over", real_hand_over)
        assert registered("ada") and OutboxMessage.objects.filter(state="pending").exists()
        with celery_worker(extra_env=worker_env(), broker_url=first.broker_url, mail_dir=first.mail_dir) as second:
            if path == "job":  # the broker hands the job's task to the next worker, which finishes it
                wait_for(lambda: registered("bob"), 60, "the job to resume")
            time.sleep(OUTBOX_SECONDS + 0.5)  # the grace runs out
            register(path, alpha_admin, alpha, ["cy"], tmp_path)  # its hand-over sweeps
            wait_for(lambda: registered("cy"), 60, "cy's registration")
            # A single call hands ada's email over before bob's call, so its process died before bob; a
            # batch hands its emails over at the end of its run (bob registered, his email owed too);
            # a job's next worker finishes the job.
            names = ("ada", "cy") if path == "single" else ("ada", "bob", "cy")
            assert [name for name in ("ada", "bob", "cy") if registered(name)] == list(names)
            expected = Counter({f"{name}@example.com": 1 for name in names})
            second.wait_for_messages(sum(expected.values()), recipients=list(expected))
            time.sleep(1)  # a duplicate would arrive now
            assert sent_per_learner(second) == expected
            assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("point, sent_to_ada", [("before-send", 1), ("after-send", 2)])
def test_the_worker_killed_after_its_claim(path, point, sent_to_ada, alpha, alpha_admin, web, tmp_path):
    """Before the send: sent once, by the next worker once the lease ran out; after it: the documented duplicate."""
    with celery_worker(extra_env=worker_env(dies=f"{point}:ada")) as first, queued_to(first.broker_url):
        register(path, alpha_admin, alpha, ["ada"], tmp_path)
        wait_for(lambda: first.process.poll() is not None, 60, "the worker to die at ada's email")
        message = OutboxMessage.objects.get(kind="email")  # (its event, for the webhooks, waits behind it)
        assert (message.state, message.attempts) == ("leased", 1)
        assert sent_per_learner(first) == (Counter({"ada@example.com": 1}) if point == "after-send" else Counter())
        with celery_worker(extra_env=worker_env(), broker_url=first.broker_url, mail_dir=first.mail_dir) as second:
            time.sleep(OUTBOX_SECONDS + 0.5)  # ada's lease runs out
            register(path, alpha_admin, alpha, ["bob"], tmp_path)  # the hand-over of bob's email sweeps
            expected = Counter({"ada@example.com": sent_to_ada, "bob@example.com": 1})
            second.wait_for_messages(sum(expected.values()), recipients=list(expected))
            time.sleep(1)  # a third email would arrive now
            assert sent_per_learner(second) == expected
            assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
