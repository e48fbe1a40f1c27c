"""The openedx-filters and openedx-events hooks a registration honours."""

from dataclasses import replace

from django.http import QueryDict
from openedx_events.learning.data import UserData, UserPersonalData
from openedx_events.learning.signals import STUDENT_REGISTRATION_COMPLETED
from openedx_filters.learning.filters import StudentRegistrationRequested

from tahoe_registration_api.exceptions import RegistrationPrevented

FILTERED_FIELDS = ("username", "email", "name")


def run_registration_filter(registration):
    """Run the operator's ``StudentRegistrationRequested`` pipeline; it may adjust or stop the registration."""
    form_data = QueryDict(mutable=True)
    for field in FILTERED_FIELDS:
        form_data[field] = getattr(registration, field)
    if registration.has_password:
        form_data["password"] = registration.password
    form_data["terms_of_service"] = "true"
    form_data["honor_code"] = "true"
    try:
        filtered = StudentRegistrationRequested.run_filter(form_data=form_data)
    except StudentRegistrationRequested.PreventRegistration as exc:
        raise RegistrationPrevented(
            str(exc) or "The registration was stopped by the site's registration policy.",
            status_code=exc.status_code or 403,
            error_code=getattr(exc, "error_code", None),
        ) from exc
    return replace(registration, **{field: str(filtered.get(field, getattr(registration, field)))
                                    for field in FILTERED_FIELDS})


def registration_completed_data(user, name):
    """Build the event's payload; done inside the transaction, so a bad payload undoes the registration."""
    return UserData(
        pii=UserPersonalData(username=user.username, email=user.email, name=name),
        id=user.id,
        is_active=user.is_active,
    )


def emit_registration_completed(user_data):
    """Send ``STUDENT_REGISTRATION_COMPLETED`` once, after the learner committed (as the platform does)."""
    STUDENT_REGISTRATION_COMPLETED.send_event(user=user_data)
