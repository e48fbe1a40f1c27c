"""
Inside the LMS: the site's courses, its enrollments and enrollment at registration, through the platform's own code.

The courses are the platform's course overviews and modes, made with its own test factories and
linked to their site's organization as Studio links them (edx-organizations); every enrollment is
the platform's ``CourseEnrollment`` / ``CourseEnrollmentAllowed``, written by its own code, whose
signals, openedx-events, tracking events, audit rows and emails are observed here.
"""

import json

import pytest
from common.djangoapps.course_modes.tests.factories import CourseModeFactory
from common.djangoapps.student import models as student
from common.djangoapps.student.models import (
    CourseEnrollment,
    CourseEnrollmentAllowed,
    ManualEnrollmentAudit,
    Registration,
    UserProfile,
)
from common.djangoapps.student.signals import ENROLL_STATUS_CHANGE
from django.contrib.auth import get_user_model
from django.core import mail
from eventtracking import tracker
from openedx.core.djangoapps.content.course_overviews.tests.factories import CourseOverviewFactory
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED, COURSE_UNENROLLMENT_COMPLETED
from organizations.api import add_organization_course
from organizations.models import OrganizationCourse
from organizations.serializers import serialize_organization

from tahoe_registration_api.models import OutboxMessage

from conftest import PASSWORD, learner_body, links, make_user
from rows import row_counts

REGISTRATIONS_URL = "/tahoe/api/v1/registrations/"
COURSES_URL = "/tahoe/api/v1/courses/"
ENROLLMENTS_URL = "/tahoe/api/v1/enrollments/"
INTRO, DATA = "course-v1:alpha+Intro+2026", "course-v1:alpha+Data+2026"
BETA_INTRO = "course-v1:beta+Intro+2026"
NOTHING = {"user": False, "enrollment": False, "allowed": False, "auto_enroll": False}
LEARNER = {**NOTHING, "user": True}
ENROLLED = {**LEARNER, "enrollment": True}
CREATED = "org.openedx.learning.course.enrollment.created.v1"
UNENROLLED = "org.openedx.learning.course.unenrollment.completed.v1"


def course(site, number, name, *modes):
    """Create a course of ``site``: its overview, its modes (``(slug, min_price)``), its organization's link."""
    overview = CourseOverviewFactory(org=site.short_name, display_number_with_default=number, run="2026",
                                     display_name=name)
    for slug, min_price in modes:
        CourseModeFactory(course=overview, mode_slug=slug, mode_display_name=slug.title(), min_price=min_price)
    add_organization_course(serialize_organization(site.organization), overview.id)
    return str(overview.id)


@pytest.fixture(name="courses")
def fixture_courses(alpha, beta):
    """Alpha's two courses (Intro: audit and verified; Data: audit) and beta's one (audit)."""
    return (
        course(alpha, "Intro", "Introduction to Alpha", ("audit", 0), ("verified", 49)),
        course(alpha, "Data", "Alpha Data Literacy", ("audit", 0)),
        course(beta, "Intro", "Introduction to Beta", ("audit", 0)),
    )


@pytest.fixture(name="observed")
def fixture_observed(monkeypatch):
    """What the platform announced during the test: its signal, its openedx-events and its tracking events."""
    seen = {"signal": [], "events": [], "tracking": []}

    def on_status_change(sender, event=None, user=None, course_id=None, mode=None, **kwargs):  # pylint: disable=W0613
        """Record the platform's ENROLL_STATUS_CHANGE signal."""
        seen["signal"].append((event, user.username, str(course_id), mode))

    def on_event(signal, sender, enrollment, metadata, **kwargs):  # pylint: disable=unused-argument
        """Record an openedx-event of an enrollment (created, or unenrollment completed)."""
        seen["events"].append((metadata.event_type, enrollment.user.pii.username, str(enrollment.course.course_key),
                               enrollment.mode, enrollment.is_active))

    real_emit = tracker.emit

    def emit(name=None, data=None):
        """Record the platform's enrollment tracking events, then emit them."""
        if name and name.startswith("edx.course.enrollment."):
            seen["tracking"].append((name, data["user_id"], data["course_id"], data["mode"]))
        return real_emit(name, data)

    monkeypatch.setattr(tracker, "emit", emit)
    ENROLL_STATUS_CHANGE.connect(on_status_change)
    COURSE_ENROLLMENT_CREATED.connect(on_event)
    COURSE_UNENROLLMENT_COMPLETED.connect(on_event)
    yield seen
    ENROLL_STATUS_CHANGE.disconnect(on_status_change)
    COURSE_ENROLLMENT_CREATED.disconnect(on_event)
    COURSE_UNENROLLMENT_COMPLETED.disconnect(on_event)


def show(response, method, site, path, body=None):
    """Print a call and its answer (seen with ``pytest -s``: the transcript of the contract's examples)."""
    print(f"\n> {method} {path} (Host: {site.domain})" + (f"\n> {json.dumps(body)}" if body is not None else ""))
    print(f"< {response.status_code} {json.dumps(response.json()) if response.content else ''}")
    return response


def get(caller, site, path, **params):
    """GET ``path`` on ``site`` with query ``params``."""
    response = caller.client.get(path, params, **caller.headers(site.domain, {}))
    return show(response, "GET", site, path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""))


def post(caller, site, path=ENROLLMENTS_URL, **body):
    """POST the JSON ``body`` to ``path`` on ``site`` (an enrollment call unless told)."""
    return show(caller.register(site, body, url=path), "POST", site, path, body)


def learner(username, site):
    """A learner of ``site`` as the platform keeps one: a user with a profile (its enrollment events read the name)."""
    user = make_user(username, site)
    UserProfile.objects.create(user=user, name=username.title())
    return user


def results(response, key):
    """The per-identifier results of course ``key`` in an enrollment answer."""
    assert response.status_code == 200, response.content
    return response.json()["courses"][key]["results"]


def enrollments(user):
    """The user's enrollment records: ``(course, mode, is_active)``, sorted."""
    return sorted((str(key), mode, active) for key, mode, active in
                  CourseEnrollment.objects.filter(user=user).values_list("course_id", "mode", "is_active"))


def allowed(key):
    """The addresses pre-enrolled in course ``key``: ``(email, auto_enroll, linked user's username)``."""
    return sorted((cea.email, cea.auto_enroll, cea.user.username if cea.user else None)
                  for cea in CourseEnrollmentAllowed.objects.filter(course_id=key))


def register(caller, site, body, url=REGISTRATIONS_URL):
    """POST a registration (single or bulk) to ``site``."""
    return show(caller.register(site, body, url=url), "POST", site, url, body)


def registered(response):
    """The learner a registration created."""
    assert response.status_code == 200, response.content
    return get_user_model().objects.get(pk=response.json()["user_id"])


# The site's courses


def test_each_site_lists_its_own_courses_with_their_modes(alpha, beta, alpha_admin, beta_admin, courses):
    alpha_list, beta_list = get(alpha_admin, alpha, COURSES_URL).json(), get(beta_admin, beta, COURSES_URL).json()
    assert (alpha_list["count"], alpha_list["next"], alpha_list["previous"]) == (2, None, None)
    assert [found["id"] for found in alpha_list["results"]] == [DATA, INTRO]
    intro = alpha_list["results"][1]
    assert (intro["display_name"], intro["org"], intro["number"]) == ("Introduction to Alpha", "alpha", "Intro")
    assert {"start", "end", "enrollment_start", "enrollment_end"} <= set(intro)
    assert [(mode["slug"], mode["min_price"]) for mode in intro["modes"]] == [("audit", 0), ("verified", 49)]
    assert [found["id"] for found in beta_list["results"]] == [BETA_INTRO]
    assert [mode["slug"] for mode in beta_list["results"][0]["modes"]] == ["audit"]


def test_a_course_is_the_sites_by_its_organizations_link_not_by_its_key(alpha, alpha_admin, courses):
    OrganizationCourse.objects.filter(course_id=DATA).update(active=False)  # the link withdrawn
    CourseOverviewFactory(org="alpha", display_number_with_default="Orphan", run="2026")  # an org, no link
    assert [found["id"] for found in get(alpha_admin, alpha, COURSES_URL).json()["results"]] == [INTRO]
    refused = post(alpha_admin, alpha, action="enroll", courses=[DATA], identifiers=["dee@example.com"])
    assert (refused.status_code, refused.json()["error_code"]) == (400, "invalid-course-ids")


def test_the_course_list_filters_as_asked(alpha, alpha_admin, courses):
    assert [found["id"] for found in get(alpha_admin, alpha, COURSES_URL, display_name="literacy").json()[
        "results"]] == [DATA]
    assert get(alpha_admin, alpha, COURSES_URL, number="intro").json()["count"] == 1
    assert get(alpha_admin, alpha, COURSES_URL, org="beta").json()["count"] == 0


def test_one_course_and_the_same_404_for_another_sites_course_or_none(alpha, alpha_admin, courses):
    one = get(alpha_admin, alpha, f"{COURSES_URL}{INTRO}/")
    assert one.status_code == 200 and one.json()["id"] == INTRO
    keys = (BETA_INTRO, "course-v1:alpha+Nope+2026")
    answers = [get(alpha_admin, alpha, f"{COURSES_URL}{key}/") for key in keys]
    assert [answer.status_code for answer in answers] == [404, 404]
    assert [answer.content.decode().replace(key, "<key>") for answer, key in zip(answers, keys)] == [
        answers[0].content.decode().replace(keys[0], "<key>")] * 2  # the same answer, but for the key it names
    assert answers[0].json()["error_code"] == "course-not-found"


# Enrollments


def test_enroll_by_user_id_username_and_email_and_pre_enroll_an_address_of_nobody(
    alpha, alpha_admin, courses, observed
):
    ada, bo, cy = (learner(name, alpha) for name in ("ada", "bo", "cy"))
    response = post(alpha_admin, alpha, action="enroll", courses=[INTRO], auto_enroll=True,
                    identifiers=[ada.pk, "bo", "cy@example.org", "dee@example.com"])
    assert results(response, INTRO) == [
        {"identifier": ada.pk, "before": LEARNER, "after": ENROLLED},
        {"identifier": "bo", "before": LEARNER, "after": ENROLLED},
        {"identifier": "cy@example.org", "before": LEARNER, "after": ENROLLED},
        {"identifier": "dee@example.com", "before": NOTHING,
         "after": {**NOTHING, "allowed": True, "auto_enroll": True}},
    ]
    assert [enrollments(user) for user in (ada, bo, cy)] == [[(INTRO, "audit", True)]] * 3
    assert allowed(INTRO) == [("dee@example.com", True, None)]
    assert observed["signal"] == [("enroll", name, INTRO, "audit") for name in ("ada", "bo", "cy")]
    assert observed["events"] == [(CREATED, name, INTRO, "audit", True) for name in ("ada", "bo", "cy")]
    assert observed["tracking"] == [("edx.course.enrollment.activated", user.pk, INTRO, "audit")
                                    for user in (ada, bo, cy)]


def test_the_pre_enrolled_address_is_enrolled_when_its_learner_registers_with_a_password(
    alpha, alpha_admin, courses, observed
):
    post(alpha_admin, alpha, action="enroll", courses=[INTRO, DATA], identifiers=["alex.userton@example.com"],
         auto_enroll=True)
    new = registered(register(alpha_admin, alpha, learner_body(password=PASSWORD, send_activation_email=False)))
    assert new.is_active
    # The platform's own receiver of the activated user (user_post_save_callback) enrolled them...
    assert enrollments(new) == [(DATA, "audit", True), (INTRO, "audit", True)]
    assert allowed(INTRO) == [("alex.userton@example.com", True, "auserton")]
    assert sorted(observed["signal"]) == [("enroll", "auserton", DATA, "audit"), ("enroll", "auserton", INTRO, "audit")]
    assert sorted(observed["events"]) == [(CREATED, "auserton", key, "audit", True) for key in (DATA, INTRO)]
    # ... and wrote its audit of the change, in the name of the admin who pre-enrolled the address.
    assert list(ManualEnrollmentAudit.objects.filter(enrollment__user=new).values_list(
        "enrolled_by__username", "state_transition")) == [("alpha_admin", student.ALLOWEDTOENROLL_TO_ENROLLED)] * 2


def test_a_pre_enrolled_address_registered_without_a_password_is_enrolled_when_it_activates(
    alpha, alpha_admin, courses
):
    post(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["alex.userton@example.com"],
         auto_enroll=True)
    new = registered(register(alpha_admin, alpha, learner_body()))
    assert not new.is_active and enrollments(new) == []  # inactive: not enrolled yet
    assert allowed(INTRO) == [("alex.userton@example.com", True, None)]
    Registration.objects.get(user=new).activate()  # what the link of the "set your password" email does
    assert get_user_model().objects.get(pk=new.pk).is_active
    assert enrollments(new) == [(INTRO, "audit", True)]


def test_a_pre_enrollment_without_auto_enroll_waits_for_the_learner(alpha, alpha_admin, courses):
    post(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["alex.userton@example.com"])
    new = registered(register(alpha_admin, alpha, learner_body(password=PASSWORD, send_activation_email=False)))
    assert enrollments(new) == []
    assert allowed(INTRO) == [("alex.userton@example.com", False, None)]


def test_unenroll_keeps_the_record_inactive_and_deletes_a_pre_enrollment(alpha, alpha_admin, courses, observed):
    ada = learner("ada", alpha)
    post(alpha_admin, alpha, action="enroll", courses=[INTRO, DATA], identifiers=["ada", "dee@example.com"])
    response = post(alpha_admin, alpha, action="unenroll", courses=[INTRO], identifiers=["ada", "dee@example.com"])
    assert results(response, INTRO) == [
        {"identifier": "ada", "before": ENROLLED, "after": LEARNER},
        {"identifier": "dee@example.com", "before": {**NOTHING, "allowed": True}, "after": NOTHING},
    ]
    assert enrollments(ada) == [(DATA, "audit", True), (INTRO, "audit", False)]
    assert allowed(INTRO) == [] and allowed(DATA) == [("dee@example.com", False, None)]
    assert observed["signal"][-1] == ("unenroll", "ada", INTRO, "audit")
    assert observed["events"][-1] == (UNENROLLED, "ada", INTRO, "audit", False)
    assert observed["tracking"][-1] == ("edx.course.enrollment.deactivated", ada.pk, INTRO, "audit")


def test_enrolling_again_reactivates_the_same_record(alpha, alpha_admin, courses):
    ada = learner("ada", alpha)
    for action in ("enroll", "unenroll", "enroll"):
        post(alpha_admin, alpha, action=action, courses=[INTRO], identifiers=["ada"])
    assert enrollments(ada) == [(INTRO, "audit", True)]


@pytest.mark.parametrize("bad", [BETA_INTRO, "course-v1:alpha+Nope+2026", "not a key"])
def test_a_course_of_another_site_or_none_is_refused_and_nothing_changes(alpha, alpha_admin, courses, observed, bad):
    learner("ada", alpha)
    before = row_counts()
    response = post(alpha_admin, alpha, action="enroll", courses=[INTRO, bad], identifiers=["ada", "dee@example.com"])
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-course-ids"
    assert bad in response.json()["field_errors"]["courses"]["developer_message"]
    assert row_counts() == before
    assert observed == {"signal": [], "events": [], "tracking": []}


def test_a_learner_of_another_site_is_nobody_here(alpha, beta, alpha_admin, courses):
    stranger = learner("stranger", beta)
    response = post(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=[stranger.pk, "stranger"])
    assert results(response, INTRO) == [{"identifier": stranger.pk, "invalidIdentifier": True},
                                        {"identifier": "stranger", "invalidIdentifier": True}]
    assert enrollments(stranger) == []


def test_a_mode_is_one_of_the_courses_modes(alpha, alpha_admin, courses):
    ada = learner("ada", alpha)
    refused = post(alpha_admin, alpha, action="enroll", courses=[DATA], identifiers=["ada"], mode="verified")
    assert refused.status_code == 400 and "mode" in refused.json()["field_errors"]
    post(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada"], mode="verified")
    assert enrollments(ada) == [(INTRO, "verified", True)]


def test_each_change_is_the_platforms_manual_enrollment_audit_by_the_admin(alpha, alpha_admin, courses):
    learner("ada", alpha)
    post(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada", "dee@example.com"])
    post(alpha_admin, alpha, action="unenroll", courses=[INTRO], identifiers=["ada", "dee@example.com"])
    audits = ManualEnrollmentAudit.objects.order_by("pk")
    assert [(row.enrolled_by, row.enrolled_email, row.state_transition) for row in audits] == [
        (alpha_admin.user, "ada@example.org", student.UNENROLLED_TO_ENROLLED),
        (alpha_admin.user, "dee@example.com", student.UNENROLLED_TO_ALLOWEDTOENROLL),
        (alpha_admin.user, "ada@example.org", student.ENROLLED_TO_UNENROLLED),
        # The platform's own constant, as its bulk enroll writes it (its text reads "... to enrolled").
        (alpha_admin.user, "dee@example.com", student.ALLOWEDTOENROLL_TO_UNENROLLED),
    ]
    assert all(row.reason.startswith("Tahoe registration API, request ") for row in audits)
    assert audits[0].enrollment == CourseEnrollment.objects.get(user__username="ada")


def test_the_platforms_enrollment_emails_are_sent_when_asked(alpha, alpha_admin, courses):
    learner("ada", alpha)
    post(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada", "dee@example.com"])
    assert mail.outbox == []  # not asked
    post(alpha_admin, alpha, action="enroll", courses=[DATA], identifiers=["ada", "dee@example.com"],
         email_learners=True)
    post(alpha_admin, alpha, action="unenroll", courses=[INTRO], identifiers=["ada", "dee@example.com"],
         email_learners=True)
    sent = sorted((message.to[0], message.subject, message.from_email) for message in mail.outbox)
    assert sent == [
        ("ada@example.org", "You have been enrolled in Alpha Data Literacy", "learning@alpha.localhost"),
        ("ada@example.org", "You have been unenrolled from Introduction to Alpha", "learning@alpha.localhost"),
        ("dee@example.com", "You have been invited to register for Alpha Data Literacy", "learning@alpha.localhost"),
        ("dee@example.com", "You have been unenrolled from Introduction to Alpha", "learning@alpha.localhost"),
    ]
    found = [link for message in mail.outbox for link in links(message.body)]
    assert found and all(link.startswith("http://alpha.localhost/") for link in found), found
    assert "http://alpha.localhost/register" in found  # the invitation's
    assert sorted(OutboxMessage.objects.filter(kind="email").values_list("topic", "state")) == [
        ("allowed_enroll", "sent"), ("allowed_unenroll", "sent"), ("enrolled_enroll", "sent"),
        ("enrolled_unenroll", "sent")]


def test_a_dry_run_foresees_the_answer_and_changes_nothing(alpha, alpha_admin, courses, observed):
    learner("ada", alpha)
    body = {"action": "enroll", "courses": [INTRO, DATA], "identifiers": ["ada", "dee@example.com", "nobody"],
            "auto_enroll": True, "email_learners": True}
    before = row_counts()
    dry = post(alpha_admin, alpha, f"{ENROLLMENTS_URL}?dry_run=true", **body)
    assert dry.json()["dry_run"] is True
    assert row_counts() == before and mail.outbox == []
    assert observed == {"signal": [], "events": [], "tracking": []}
    real = post(alpha_admin, alpha, **body)
    assert [results(dry, key) for key in (INTRO, DATA)] == [results(real, key) for key in (INTRO, DATA)]
    assert len(observed["signal"]) == 2 and len(mail.outbox) == 4


def test_the_enrollment_list_holds_the_sites_enrollments_with_filters(
    alpha, beta, alpha_admin, beta_admin, courses
):
    ada, bo = learner("ada", alpha), learner("bo", alpha)
    post(alpha_admin, alpha, action="enroll", courses=[INTRO, DATA], identifiers=["ada", "bo"])
    post(alpha_admin, alpha, action="unenroll", courses=[DATA], identifiers=["bo"])
    learner("stranger", beta)
    post(beta_admin, beta, action="enroll", courses=[BETA_INTRO], identifiers=["stranger"])
    body = get(alpha_admin, alpha, ENROLLMENTS_URL).json()
    assert body["count"] == 4
    assert sorted((row["course_id"], row["username"], row["mode"], row["is_active"]) for row in body["results"]) == [
        (DATA, "ada", "audit", True), (DATA, "bo", "audit", False), (INTRO, "ada", "audit", True),
        (INTRO, "bo", "audit", True)]
    assert [row["username"] for row in get(alpha_admin, alpha, ENROLLMENTS_URL, is_active="false").json()[
        "results"]] == ["bo"]
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, user_id=ada.pk).json()["count"] == 2
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, username="bo", course_id=INTRO).json()["count"] == 1
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, course_id=BETA_INTRO).json()["count"] == 0
    assert [row["username"] for row in get(beta_admin, beta, ENROLLMENTS_URL).json()["results"]] == ["stranger"]
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, user_id=bo.pk, is_active="maybe").status_code == 400


# Enrollment at registration


def test_a_registration_with_courses_enrolls_the_learner_through_the_platform(alpha, alpha_admin, courses, observed):
    response = register(alpha_admin, alpha, learner_body(courses=[INTRO, DATA]))
    new = registered(response)
    assert set(response.json()) == {"user_id"}
    assert not new.is_active  # waiting for its "set your password" email, and enrolled already
    assert enrollments(new) == [(DATA, "audit", True), (INTRO, "audit", True)]
    assert sorted(observed["signal"]) == [("enroll", "auserton", DATA, "audit"), ("enroll", "auserton", INTRO, "audit")]
    assert sorted(observed["events"]) == [(CREATED, "auserton", key, "audit", True) for key in (DATA, INTRO)]
    assert sorted(observed["tracking"]) == [("edx.course.enrollment.activated", new.pk, key, "audit")
                                            for key in (DATA, INTRO)]
    assert [message.subject for message in mail.outbox] == ["Password reset on Alpha Academy"]


def test_a_registration_with_a_mode_enrolls_the_learner_in_it(alpha, alpha_admin, courses):
    body = learner_body(courses=[INTRO], mode="verified", password=PASSWORD, send_activation_email=False)
    new = registered(register(alpha_admin, alpha, body))
    assert new.is_active and enrollments(new) == [(INTRO, "verified", True)]


@pytest.mark.parametrize("keys", [[BETA_INTRO], [INTRO, "course-v1:alpha+Nope+2026"], [INTRO, "junk"]])
def test_a_registration_with_a_course_not_of_the_site_registers_nobody(alpha, alpha_admin, courses, observed, keys):
    before = row_counts()
    response = register(alpha_admin, alpha, learner_body(courses=keys))
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-course-ids"
    assert keys[-1] in response.json()["field_errors"]["courses"]["developer_message"]
    assert row_counts() == before and mail.outbox == []
    assert observed == {"signal": [], "events": [], "tracking": []}


def test_each_learner_of_a_bulk_call_may_name_courses(alpha, alpha_admin, courses):
    response = register(alpha_admin, alpha, {"learners": [
        learner_body(courses=[INTRO]),
        learner_body(username="bee", email="bee@example.com", courses=f"{INTRO};{DATA}", mode="audit"),
        learner_body(username="cee", email="cee@example.com", courses=[BETA_INTRO]),
    ]}, url=f"{REGISTRATIONS_URL}bulk/")
    body = response.json()
    assert (body["created"], body["failed"]) == (2, 1)
    assert (body["results"][2]["status"], body["results"][2]["error_code"]) == (400, "invalid-course-ids")
    assert sorted((enrollment.user.username, str(enrollment.course_id), enrollment.mode) for enrollment in
                  CourseEnrollment.objects.filter(is_active=True)) == [
        ("auserton", INTRO, "audit"), ("bee", DATA, "audit"), ("bee", INTRO, "audit")]
    assert not get_user_model().objects.filter(username="cee").exists()
