"""The query budget of a registration (query counts are deterministic; timings are not asserted)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from organizations.models import Organization
from tahoe_sites.api import add_user_to_organization, update_admin_role_in_organization
from tahoe_sites.models import TahoeSite

from devlms.models import SiteConfiguration
from tahoe_registration_api import tasks
from tests.conftest import Caller, learner_body, make_user
from tests.rows import row_counts

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction: count exactly what runs


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def count_queries(caller, site, body):
    """Count the SQL queries of one request; BEGIN/COMMIT/ROLLBACK are transaction control, not queries."""
    with CaptureQueriesContext(connection) as captured:
        response = caller.register(site, body)
    queries = [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]
    return response, len(queries)


@pytest.fixture(autouse=True)
def _emails_queued_not_sent(monkeypatch):
    """The outbox's task runs on a Celery worker in the LMS (eagerly in the development LMS): not counted here."""
    queued = []
    monkeypatch.setattr(tasks.deliver_outbox_message, "apply_async", lambda args, **options: queued.append(args))
    return queued


@pytest.fixture
def warm(alpha, alpha_admin):
    """One registration first, as in any running LMS: the site's look-ups are cached."""
    assert alpha_admin.register(alpha, learner_body(username="first", email="first@example.com")).status_code == 200


# The budget of the development LMS, on the fake platform and the stand-ins' user receiver. The
# budget of the real LMS, whole request included, is asserted in platform_tests/test_query_budget.py.
@pytest.mark.parametrize("password", [None, "Str0ng-enough-pw"])
def test_a_registration_on_the_development_lms_takes_at_most_14_queries(alpha, alpha_admin, warm, password):
    response, queries = count_queries(alpha_admin, alpha, learner_body(password=password))
    assert response.status_code == 200
    assert queries <= 14, queries


def test_a_conflict_takes_at_most_6_queries(alpha, alpha_admin, warm):
    response, queries = count_queries(alpha_admin, alpha, learner_body(username="first"))
    assert response.status_code == 409
    assert queries <= 6, queries


def test_a_bad_request_takes_at_most_4_queries_and_writes_nothing(alpha, alpha_admin, warm):
    before = row_counts()
    response, queries = count_queries(alpha_admin, alpha, learner_body(email="not-an-email", name="<b>"))
    assert response.status_code == 400
    assert queries <= 4, queries
    assert row_counts() == before


def test_a_demoted_admin_is_refused_at_once(alpha, alpha_admin, warm):
    update_admin_role_in_organization(alpha_admin.user, alpha.organization, set_as_admin=False)
    assert alpha_admin.register(alpha, learner_body()).status_code == 403


def test_a_deactivated_admin_is_refused_at_once(alpha, alpha_admin, warm):
    alpha_admin.user.is_active = False
    alpha_admin.user.save()
    assert alpha_admin.register(alpha, learner_body()).status_code == 401


def test_moving_a_site_to_another_organization_applies_at_once(alpha, alpha_admin, warm):
    """The cached site-to-organization mapping is dropped as soon as the site's TahoeSite changes."""
    gamma = Organization.objects.create(name="gamma", short_name="gamma")
    gamma_admin = Caller(make_user("gamma_admin"))
    add_user_to_organization(gamma_admin.user, gamma, is_admin=True)
    tahoe_site = TahoeSite.objects.get(site=alpha.site)
    tahoe_site.organization = gamma
    tahoe_site.save()
    assert alpha_admin.register(alpha, learner_body()).status_code == 403  # no longer this site's admin
    assert gamma_admin.register(alpha, learner_body()).status_code == 200


def test_a_site_switch_flip_applies_within_the_cache_timeout(alpha, alpha_admin, warm, settings):
    SiteConfiguration.objects.create(site=alpha.site, enabled=True,
                                     site_values={"TAHOE_REGISTRATION_API_ENABLED": False})
    # still cached: the documented delay (TAHOE_REGISTRATION_API_CACHE_TIMEOUT, 30 s by default)
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    settings.TAHOE_REGISTRATION_API_CACHE_TIMEOUT = 0
    from django.core.cache import cache
    cache.clear()  # what the timeout does
    response = alpha_admin.register(alpha, learner_body(username="later", email="later@example.com"))
    assert response.status_code == 403


def test_the_real_adapter_adds_only_the_platforms_own_queries(alpha, alpha_admin, warm, settings):
    """
    With the real adapter (against the platform stand-ins): 17 / 5 / 3, reported, not a budget.

    Over the fake's: the form's own email check (two), the registration and profile rows, the
    ``created_on_site`` attribute and the ``pref-lang`` preference. Each answer includes the
    audit store's entry (one insert; its purge ran with the warm-up's); a 200, its email's outbox
    message (one insert, in the learner's transaction).
    """
    settings.TAHOE_REGISTRATION_API_ADAPTER = "tahoe_registration_api.edxapp"
    bodies = (learner_body(), learner_body(), learner_body(email="not-an-email"))
    measured = [count_queries(alpha_admin, alpha, body) for body in bodies]
    assert [answer.status_code for answer, _ in measured] == [200, 409, 400]
    assert [queries for _, queries in measured] == [17, 5, 3]
