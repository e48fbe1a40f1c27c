"""``?dry_run=true``: every check of a real call, and nothing written, sent or emitted."""

import pytest
from django.core import mail

from devlms import fake_platform
from tests.conftest import REGISTRATIONS_URL, REGISTRATIONS_V2_URL, learner_body, make_user
from tests.rows import row_counts
from tests.test_platform_hooks import FILTER, completed_events  # noqa: F401  pylint: disable=unused-import

DRY_RUN = REGISTRATIONS_URL + "?dry_run=true"
PASSWORD = "Str0ng-enough-pw"


def test_a_dry_run_of_a_valid_registration_answers_200_and_changes_nothing(
    alpha, alpha_admin, completed_events  # pylint: disable=redefined-outer-name
):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD), url=DRY_RUN)
    assert response.status_code == 200, response.content
    assert response.json() == {"dry_run": True}
    assert row_counts() == before
    assert mail.outbox == [] and completed_events == [] and fake_platform.ANNOUNCED == []


def test_a_dry_run_then_the_real_call(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body(), url=DRY_RUN).status_code == 200
    real = alpha_admin.register(alpha, learner_body())
    assert real.status_code == 200 and "user_id" in real.json()
    again = alpha_admin.register(alpha, learner_body(), url=DRY_RUN)
    assert again.status_code == 409
    assert again.json() == alpha_admin.register(alpha, learner_body()).json()


@pytest.mark.parametrize("body", [
    learner_body(email="not-an-email"),
    learner_body(password="short"),
    learner_body(username="has space", name="<b>x</b>"),
    {"username": "auserton"},
])
def test_a_dry_run_gives_the_very_400_of_a_real_call(alpha, alpha_admin, body):
    before = row_counts()
    dry = alpha_admin.register(alpha, body, url=DRY_RUN)
    assert dry.status_code == 400
    assert row_counts() == before
    real = alpha_admin.register(alpha, body)
    assert (dry.status_code, dry.json()) == (real.status_code, real.json())


def test_a_dry_run_sees_an_email_taken_on_the_site(alpha, alpha_admin):
    make_user("taken", alpha)
    body = learner_body(email="TAKEN@example.com")
    dry = alpha_admin.register(alpha, body, url=DRY_RUN)
    assert dry.status_code == 409 and dry.json()["error_code"] == "duplicate-email"


def test_a_dry_run_by_a_learner_or_anonymous_is_refused_as_a_real_call(alpha, alpha_learner, anonymous):
    assert alpha_learner.register(alpha, learner_body(), url=DRY_RUN).status_code == 403
    assert anonymous.register(alpha, learner_body(), url=DRY_RUN).status_code == 401


def test_a_dry_run_runs_the_registration_filter(alpha, alpha_admin, settings):
    settings.OPEN_EDX_FILTERS_CONFIG = {FILTER: {"pipeline": ["tests.test_platform_hooks.StopRegistration"],
                                                 "fail_silently": False}}
    dry = alpha_admin.register(alpha, learner_body(), url=DRY_RUN)
    real = alpha_admin.register(alpha, learner_body())
    assert dry.status_code == real.status_code == 422
    assert dry.json() == real.json()


@pytest.mark.parametrize("value, dry", [("true", True), ("True", True), ("1", True), ("false", False), ("0", False)])
def test_the_dry_run_switch_reads_true_or_false(alpha, alpha_admin, value, dry):
    response = alpha_admin.register(alpha, learner_body(), url=f"{REGISTRATIONS_URL}?dry_run={value}")
    assert response.status_code == 200
    assert ("dry_run" in response.json()) is dry


def test_another_dry_run_value_is_a_400_naming_dry_run(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(), url=f"{REGISTRATIONS_URL}?dry_run=maybe")
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["dry_run"]


def test_a_dry_run_counts_against_the_rate_limit(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_RATE = "2/m"
    assert alpha_admin.register(alpha, learner_body(), url=DRY_RUN).status_code == 200
    assert alpha_admin.register(alpha, learner_body(), url=DRY_RUN).status_code == 200
    assert alpha_admin.register(alpha, learner_body(), url=DRY_RUN).status_code == 429


def test_a_dry_run_on_v2(alpha, alpha_admin):
    alpha_admin.register(alpha, learner_body())
    response = alpha_admin.register(alpha, learner_body(), url=REGISTRATIONS_V2_URL + "?dry_run=true")
    assert response.status_code == 409 and response.json()["invalid-params"] == ["email", "username"]
