"""Real parallel registrations through gunicorn's worker processes, decided by MariaDB."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from tahoe_sites.models import UserOrganizationMapping

from tests.conftest import Caller, Site, make_user
from tests.live_lms import LiveLms

pytestmark = [pytest.mark.mariadb, pytest.mark.concurrency]


@pytest.fixture(scope="module")
def live_lms(django_db_setup, django_db_blocker):  # pylint: disable=unused-argument
    """Four gunicorn workers serving the test database."""
    with django_db_blocker.unblock():
        server = LiveLms(workers=4)
    yield server
    server.stop()


@pytest.fixture
def two_sites(transactional_db):  # pylint: disable=unused-argument
    """Committed sites and admins, visible to the server's processes."""
    alpha, beta = Site("alpha.localhost", "alpha"), Site("beta.localhost", "beta")
    tokens = {
        alpha.domain: Caller(make_user("alpha_admin", alpha, is_admin=True)).token,
        beta.domain: Caller(make_user("beta_admin", beta, is_admin=True)).token,
    }
    return alpha, beta, tokens


def statuses(results):
    """Count the answers by status; every answer must be JSON."""
    for status, body, raw in results:
        assert body is not None, (status, raw[:200])
    return Counter(status for status, _, _ in results)


def test_16_registrations_of_one_email_on_one_site_create_one_learner(live_lms, two_sites):
    alpha, _, tokens = two_sites
    results = live_lms.post_all_at_once([
        (alpha.domain, tokens[alpha.domain],
         {"username": f"racer{i}", "email": "Same.Person@example.com" if i % 2 else "same.person@example.com",
          "name": "Same Person"})
        for i in range(16)
    ])
    assert statuses(results) == {200: 1, 409: 15}
    assert all(body["field_errors"].keys() == {"email"} for status, body, _ in results if status == 409)
    assert get_user_model().objects.filter(email__iexact="same.person@example.com").count() == 1


def test_16_registrations_of_one_username_on_two_sites_create_one_learner(live_lms, two_sites):
    alpha, beta, tokens = two_sites
    results = live_lms.post_all_at_once([
        (site.domain, tokens[site.domain],
         {"username": "TakenName" if i % 3 else "takenname", "email": f"person{i}@example.com", "name": "P"})
        for i, site in enumerate([alpha, beta] * 8)
    ])
    assert statuses(results) == {200: 1, 409: 15}
    assert all(body["field_errors"].keys() == {"username"} for status, body, _ in results if status == 409)
    assert get_user_model().objects.filter(username__iexact="takenname").count() == 1


def test_50_distinct_registrations_all_succeed_in_the_right_organization(live_lms, two_sites):
    alpha, beta, tokens = two_sites
    sites = [alpha, beta]
    results = live_lms.post_all_at_once([
        (sites[i % 2].domain, tokens[sites[i % 2].domain],
         {"username": f"learner{i}", "email": f"learner{i}@example.com", "name": f"Learner {i}"})
        for i in range(50)
    ])
    assert statuses(results) == {200: 50}
    for i, (_, body, _) in enumerate(results):
        mapping = UserOrganizationMapping.objects.get(user_id=body["user_id"])
        assert mapping.organization == sites[i % 2].organization
        assert mapping.is_admin is False
        assert mapping.user.username == f"learner{i}"


def test_a_mixed_burst_of_duplicates_and_distinct_learners(live_lms, two_sites):
    """Three rounds of 16: each round half duplicates of one email, half new learners; no 5xx ever."""
    alpha, _, tokens = two_sites
    for round_number in range(3):
        results = live_lms.post_all_at_once([
            (alpha.domain, tokens[alpha.domain],
             {"username": f"r{round_number}u{i}",
              "email": f"dup{round_number}@example.com" if i < 8 else f"r{round_number}u{i}@example.com",
              "name": "Burst"})
            for i in range(16)
        ])
        assert statuses(results) == {200: 9, 409: 7}
    assert UserOrganizationMapping.objects.filter(organization=alpha.organization, is_admin=False).count() == 27


def test_16_requests_of_one_idempotency_key_make_one_learner_and_one_email(two_sites, tmp_path):
    """Every answer is the first one's 200 (replayed) or 409 idempotency-key-in-flight; one learner, one email."""
    alpha, _, tokens = two_sites
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    server = LiveLms(workers=4, extra_env={"DEVLMS_EMAIL_FILE_PATH": str(mail_dir)})
    try:
        body = {"username": "once", "email": "once@example.com", "name": "Only Once"}
        results = server.post_all_at_once([
            (alpha.domain, tokens[alpha.domain], body, {"Idempotency-Key": "crm-sync-42"}) for _ in range(16)
        ])
    finally:
        server.stop()
    counts = statuses(results)
    assert set(counts) <= {200, 409} and counts[200] >= 1, counts
    created = [body for status, body, _ in results if status == 200]
    assert all(answer == created[0] for answer in created)
    assert all(body["error_code"] == "idempotency-key-in-flight" for status, body, _ in results if status == 409)
    assert get_user_model().objects.filter(username="once").count() == 1
    sent = "".join(path.read_text(encoding="utf-8") for path in mail_dir.iterdir())
    assert sent.count("To: once@example.com") == 1


def test_registrations_and_a_learners_change_racing_for_one_email_give_it_to_one_learner(live_lms, two_sites):
    """The change takes the registration's claim on the address: whoever wins, one learner has it."""
    alpha, _, tokens = two_sites
    ada = make_user("ada", alpha)
    token = tokens[alpha.domain]
    registrations = [("POST", "/tahoe/api/v1/registrations/", alpha.domain, token,
                      {"username": f"racer{i}", "email": "Wanted@example.com" if i % 2 else "wanted@example.com",
                       "name": "Racer"}) for i in range(8)]
    changes = [("PATCH", f"/tahoe/api/v1/learners/{ada.pk}/", alpha.domain, token,
                {"email": "WANTED@example.com" if i % 2 else "wanted@example.com"}) for i in range(8)]
    results = live_lms.send_all_at_once([call for pair in zip(registrations, changes) for call in pair])
    registered, changed = results[0::2], results[1::2]
    assert set(statuses(results)) <= {200, 409}, statuses(results)
    assert get_user_model().objects.filter(email__iexact="wanted@example.com").count() == 1
    registrations_won = sum(status == 200 for status, _, _ in registered)
    changes_won = sum(status == 200 for status, _, _ in changed)
    # A registration won (every change refused), or ada did (every registration refused; ada's later
    # changes only change the address's case).
    assert (registrations_won, changes_won > 0) in ((1, False), (0, True)), (registrations_won, changes_won)
    ada.refresh_from_db()
    assert (ada.email.lower() == "wanted@example.com") == (changes_won > 0)
