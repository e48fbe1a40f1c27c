"""The platform's hooks through HTTP: the registration event, the registration filter, closed sign-up."""

import pytest
from openedx_events.learning.signals import STUDENT_REGISTRATION_COMPLETED
from openedx_filters import PipelineStep

from tests.conftest import learner_body
from tests.rows import row_counts

REAL_ADAPTER = "tahoe_registration_api.edxapp"


@pytest.fixture
def completed_events():
    events = []

    def receiver(signal, sender, user, metadata, **kwargs):  # pylint: disable=unused-argument
        events.append(user)

    STUDENT_REGISTRATION_COMPLETED.connect(receiver)
    yield events
    STUDENT_REGISTRATION_COMPLETED.disconnect(receiver)


def test_student_registration_completed_fires_once_per_learner(alpha, alpha_admin, completed_events):
    first = alpha_admin.register(alpha, learner_body())
    alpha_admin.register(alpha, learner_body())  # 409
    alpha_admin.register(alpha, learner_body(username="x y"))  # 400
    second = alpha_admin.register(alpha, learner_body(username="other", email="other@example.com"))
    assert [event.id for event in completed_events] == [first.json()["user_id"], second.json()["user_id"]]
    assert completed_events[0].pii.username == "auserton"
    assert completed_events[0].pii.name == "Alex Userton"
    assert completed_events[0].is_active is False


class StopRegistration(PipelineStep):
    """An operator's filter step that refuses every registration."""

    def run_filter(self, form_data):  # pylint: disable=arguments-differ
        raise self.stop()

    def stop(self):
        from openedx_filters.learning.filters import StudentRegistrationRequested

        return StudentRegistrationRequested.PreventRegistration("Registrations are closed today.", status_code=422)


class RenameRegistration(PipelineStep):
    """An operator's filter step that rewrites the username."""

    def run_filter(self, form_data):  # pylint: disable=arguments-differ
        form_data["username"] = form_data["username"] + "_x"
        return {"form_data": form_data}


FILTER = "org.openedx.learning.student.registration.requested.v1"


def test_prevent_registration_becomes_a_clear_4xx_and_writes_nothing(alpha, alpha_admin, settings):
    settings.OPEN_EDX_FILTERS_CONFIG = {FILTER: {"pipeline": ["tests.test_platform_hooks.StopRegistration"],
                                                 "fail_silently": False}}
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw"))
    assert response.status_code == 422
    assert response.json()["error_code"] == "registration-prevented"
    assert response.json()["user_message"] == "Registrations are closed today."
    assert row_counts() == before


def test_a_filter_may_adjust_the_registration(alpha, alpha_admin, settings):
    settings.OPEN_EDX_FILTERS_CONFIG = {FILTER: {"pipeline": ["tests.test_platform_hooks.RenameRegistration"],
                                                 "fail_silently": False}}
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(pk=response.json()["user_id"]).username == "auserton_x"


@pytest.mark.parametrize("password", [None, "Str0ng-enough-pw"])
def test_registration_works_where_public_sign_up_is_closed(alpha, alpha_admin, settings, password):
    """Through HTTP with the real adapter: the invitation case this API exists for."""
    settings.TAHOE_REGISTRATION_API_ADAPTER = REAL_ADAPTER
    settings.STANDIN_SITE_CONFIGURATION = {"ALLOW_PUBLIC_ACCOUNT_CREATION": False}
    settings.ALLOW_PUBLIC_ACCOUNT_CREATION = False
    response = alpha_admin.register(alpha, learner_body(password=password))
    assert response.status_code == 200, response.content
